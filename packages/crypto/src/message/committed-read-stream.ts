/**
 * Reads one 0x0478 message (the envelope's default suite: stored images) as a stream, without the
 * Encryption SDK's stream client — the streaming counterpart of `openCommittedMessage`. The SDK's
 * pipeline (readable-stream, duplexify, a `setImmediate` per frame and per header, a copy of every
 * partial frame header) cost several times the AES itself on a 50 MiB image.
 *
 * The steps are the SDK's decrypt stream with the envelope's materials manager, in its order: header
 * parse (the SDK's parser, with the encrypted-data-key limit) and the policy checks; then `keys` — the
 * caller's checks before any data key is unwrapped (context), the data key and the derivation
 * (`deriveCommittedKeys`); the key commitment (`commitmentMatches`, as `committed-read.ts`); the header
 * tag; then frames (the SDK's `decodeBodyHeader`) with sequence numbers from 1, each at most
 * `maxBodySize`, their AAD, and a frame's plaintext released only once its tag verified. A message
 * without its final frame is refused at the end, and so is any byte after it (the SDK ignores them
 * when unsigned; our writers write none). A message of another suite, or a header the parser refuses,
 * is handed whole to `other` when given (the SDK's stream, so every other suite keeps its exact
 * behaviour), and refused otherwise. `committed-read-stream.test.ts` compares it with the SDK.
 */
import { createDecipheriv, type DecipherGCM } from "node:crypto";
import { Transform, type TransformCallback, type Writable } from "node:stream";
import { type BodyHeader, decodeBodyHeader, type HeaderInfo } from "@aws-crypto/serialize";
import { CiphertextError, CryptoError } from "../errors.ts";
import { type CommittedKeys, committedSuiteId, deriveCommittedKeys } from "./committed-message.ts";
import { commitmentMatches } from "./committed-read.ts";
import { checkPolicies, type DecryptMessageOptions } from "./decrypt-message.ts";
import { bodyAad, deserializer, frameAad } from "./format.ts";

const tagBytes = 16;
const framedContent = 2;
/** The longest frame header: final marker, sequence number, IV, content length. */
const maxFrameHeaderBytes = 4 + 4 + 12 + 4;
const frameString = bodyAad.messageAADContentString({ contentType: framedContent, isFinalFrame: false });
const finalFrameString = bodyAad.messageAADContentString({ contentType: framedContent, isFinalFrame: true });

/** Another reader for messages this one does not read: bytes go into `input`, plaintext out of `output`. */
export interface OtherReader {
  readonly input: Writable;
  /** Its only errors are the ones the stream should emit. */
  readonly output: NodeJS.ReadableStream & { destroy(): unknown };
}

export interface CommittedReadOptions extends DecryptMessageOptions {
  /**
   * The message's keys for its parsed header: the caller's checks first (context), then the data key
   * and `committedKeysFor`. Their encryption key is zeroed by the stream.
   */
  readonly keys: (info: HeaderInfo) => Promise<CommittedKeys>;
  /**
   * Maps any error of the stream (the keys' and the header parser's included) to the one it emits.
   * Default: a `CryptoError` as it is, anything else `CiphertextError("malformed")`.
   */
  readonly typed?: (err: unknown) => Error;
  /** The reader of every other message (another suite, or a header the parser refuses). */
  readonly other?: () => OtherReader;
}

/** `deriveCommittedKeys` for a parsed header; a data key of the wrong length is `wrongKey`. */
export function committedKeysFor(
  dataKey: { export(): Buffer } | Uint8Array,
  info: HeaderInfo,
): CommittedKeys {
  try {
    return deriveCommittedKeys(dataKey, info.messageHeader.messageId);
  } catch {
    throw new CiphertextError("wrongKey");
  }
}

/** Runs an SDK parser step; any exception is a malformed message. */
function parsed<T>(step: () => T): T {
  try {
    return step();
  } catch {
    throw new CiphertextError("malformed");
  }
}

type Phase = "header" | "keys" | "frameHeader" | "content" | "tag" | "done" | "other";

/** The decrypting transform: ciphertext in, plaintext out. See the module comment. */
export class CommittedDecryptStream extends Transform {
  private phase: Phase = "header";
  /** Bytes of an incomplete header, frame header or tag, kept between chunks. */
  private held: Buffer[] = [];
  private heldLength = 0;
  private info: HeaderInfo | undefined;
  private keys: Promise<CommittedKeys> | undefined;
  private encryptionKey: Buffer | undefined;
  private messageId = Buffer.alloc(0);
  private sequenceNumber = 0;
  private frame: BodyHeader | undefined;
  private decipher: DecipherGCM | undefined;
  private contentLeft = 0;
  private plaintext: Buffer[] = [];
  private otherReader: OtherReader | undefined;
  private otherEnded: (() => void) | undefined;
  /** The bytes read before the switch to the other reader, not yet written to it. */
  private pendingOther: Buffer | undefined;

  constructor(private readonly options: CommittedReadOptions) {
    super();
  }

  private typed(err: unknown): Error {
    if (this.options.typed) return this.options.typed(err);
    return err instanceof CryptoError ? err : new CiphertextError("malformed");
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let at = 0;
    if (this.phase !== "other") {
      try {
        at = this.consume(chunk, 0);
      } catch (err) {
        done(this.typed(err));
        return;
      }
    }
    if (this.phase === "other") {
      this.toOther(chunk, done);
      return;
    }
    if (this.phase !== "keys") {
      done();
      return;
    }
    // The header is in: the rest of the chunk (if any) waits for the keys.
    (this.keys as Promise<CommittedKeys>).then(
      (keys) => {
        if (this.destroyed) {
          keys.encryptionKey.fill(0);
          return done();
        }
        try {
          this.begin(keys);
          this.consume(chunk, at);
          done();
        } catch (err) {
          done(this.typed(err));
        }
      },
      (err: unknown) => done(this.typed(err)),
    );
  }

  override _flush(done: TransformCallback): void {
    if (this.phase === "other") {
      this.otherEnded = () => done();
      (this.otherReader as OtherReader).input.end();
      return;
    }
    this.zero();
    done(this.phase === "done" ? null : this.typed(new CiphertextError("malformed")));
  }

  override _read(size: number): void {
    // The other reader was paused while this stream's buffer was full.
    this.otherReader?.output.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.zero();
    this.plaintext = [];
    this.decipher = undefined;
    this.otherReader?.output.destroy();
    done(err);
  }

  /** Zeroes the derived key, also when it arrives only after the end. */
  private zero(): void {
    this.encryptionKey?.fill(0);
    this.encryptionKey = undefined;
    this.keys?.then(
      (keys) => keys.encryptionKey.fill(0),
      () => undefined,
    );
  }

  /** `held` ‖ `chunk[at…]`, up to `limit` bytes of the chunk: a small buffer to parse from. */
  private joined(chunk: Buffer, at: number, limit: number): Buffer {
    if (this.heldLength === 0) return chunk.subarray(at, at + limit);
    return Buffer.concat([...this.held, chunk.subarray(at, at + limit)]);
  }

  private hold(chunk: Buffer, at: number): void {
    this.held.push(Buffer.from(chunk.subarray(at)));
    this.heldLength += chunk.length - at;
  }

  private release(): void {
    this.held = [];
    this.heldLength = 0;
  }

  /** Reads `chunk` from `at`; returns where it stopped: the chunk's end, or the header's end. */
  private consume(chunk: Buffer, from: number): number {
    let at = from;
    while (at < chunk.length) {
      switch (this.phase) {
        case "header": {
          const bytes = this.joined(chunk, at, chunk.length);
          let info: HeaderInfo | false;
          try {
            info = deserializer.deserializeMessageHeader(bytes, {
              maxEncryptedDataKeys: this.options.maxEncryptedDataKeys,
            });
          } catch (err) {
            if (this.options.other) return this.switchToOther(bytes);
            throw err; // the parser's own error, for `typed` to read
          }
          if (!info) {
            this.hold(chunk, at);
            return chunk.length;
          }
          if (info.algorithmSuite.id !== committedSuiteId) {
            if (this.options.other) return this.switchToOther(bytes);
            throw new CiphertextError("unsupportedSuite");
          }
          at += info.headerLength + info.headerAuth.headerAuthLength - this.heldLength;
          this.release();
          this.parse(info);
          return at;
        }
        case "frameHeader": {
          const bytes = this.joined(chunk, at, maxFrameHeaderBytes);
          const info = this.info as HeaderInfo;
          const frame = parsed(() => decodeBodyHeader(bytes, info, 0));
          if (!frame) {
            this.hold(chunk, at);
            return chunk.length;
          }
          at += frame.readPos - this.heldLength;
          this.release();
          this.startFrame(frame);
          break;
        }
        case "content": {
          const n = Math.min(this.contentLeft, chunk.length - at);
          const out = (this.decipher as DecipherGCM).update(chunk.subarray(at, at + n));
          if (out.length > 0) this.plaintext.push(out);
          this.contentLeft -= n;
          at += n;
          if (this.contentLeft === 0) this.phase = "tag";
          break;
        }
        case "tag": {
          const n = Math.min(tagBytes - this.heldLength, chunk.length - at);
          if (this.heldLength + n < tagBytes) {
            this.hold(chunk, at); // the rest of the chunk: part of the tag
            return chunk.length;
          }
          const tag = this.joined(chunk, at, n);
          at += n;
          this.release();
          this.endFrame(tag);
          break;
        }
        case "done":
          throw new CiphertextError("malformed"); // trailing bytes
        case "keys":
        case "other":
          throw new Error("unreachable: bytes before the keys, or of another reader");
      }
    }
    return at;
  }

  /** The checks on the parsed header before the keys, then the request for them. */
  private parse(info: HeaderInfo): void {
    const { messageHeader } = info;
    checkPolicies(this.options, committedSuiteId, messageHeader.messageId);
    this.info = info;
    this.messageId = Buffer.from(messageHeader.messageId);
    this.keys = this.options.keys(info);
    // Handled where it is awaited; this only keeps a rejection after a destroy from being unhandled.
    this.keys.catch(() => undefined);
    this.phase = "keys";
  }

  /** The key commitment, then the header tag. */
  private begin(keys: CommittedKeys): void {
    this.encryptionKey = keys.encryptionKey;
    const info = this.info as HeaderInfo;
    // As the SDK's stream: a commitment that does not match is "Commitment does not match" (tampered).
    if (!commitmentMatches(info, keys.commitment)) throw new CiphertextError("tampered");
    const { headerIv, headerAuthTag } = info.headerAuth;
    try {
      const check = this.decipherFor(headerIv);
      check.setAAD(Buffer.from(info.rawHeader));
      check.setAuthTag(Buffer.from(headerAuthTag));
      check.final();
    } catch {
      throw new CiphertextError("tampered");
    }
    // Authentic from here on; as the SDK's stream, which checks them only now. Our writers write
    // framed messages only.
    const { contentType, frameLength } = info.messageHeader;
    const { maxBodySize } = this.options;
    if (contentType !== framedContent || (maxBodySize !== undefined && frameLength > maxBodySize)) {
      throw new CiphertextError("malformed");
    }
    this.phase = "frameHeader";
  }

  private decipherFor(iv: Uint8Array): DecipherGCM {
    return createDecipheriv("aes-256-gcm", this.encryptionKey as Buffer, iv, { authTagLength: tagBytes });
  }

  private startFrame(frame: BodyHeader): void {
    const { maxBodySize } = this.options;
    if (maxBodySize !== undefined && frame.contentLength > maxBodySize)
      throw new CiphertextError("malformed");
    if (frame.sequenceNumber !== ++this.sequenceNumber) throw new CiphertextError("malformed");
    const label = frame.isFinalFrame ? finalFrameString : frameString;
    this.decipher = this.decipherFor(frame.iv);
    this.decipher.setAAD(frameAad(this.messageId, label, frame.sequenceNumber, frame.contentLength));
    this.frame = frame;
    this.contentLeft = frame.contentLength;
    this.phase = frame.contentLength > 0 ? "content" : "tag";
  }

  /** Checks the frame's tag; only then is its plaintext released. */
  private endFrame(tag: Buffer): void {
    const decipher = this.decipher as DecipherGCM;
    this.decipher = undefined;
    let rest: Buffer;
    try {
      decipher.setAuthTag(tag);
      rest = decipher.final();
    } catch {
      this.plaintext = [];
      throw new CiphertextError("tampered");
    }
    if (rest.length > 0) this.plaintext.push(rest);
    const plaintext = this.plaintext;
    this.plaintext = [];
    for (const piece of plaintext) this.push(piece);
    if ((this.frame as BodyHeader).isFinalFrame) {
      this.phase = "done";
      this.zero();
    } else {
      this.phase = "frameHeader";
    }
  }

  /** Hands the message to the other reader: the bytes so far now, every later chunk as it comes. */
  private switchToOther(bytes: Buffer): number {
    const other = (this.options.other as () => OtherReader)();
    this.otherReader = other;
    this.phase = "other";
    this.release();
    other.output.on("data", (data: Buffer) => {
      if (!this.push(data)) other.output.pause();
    });
    other.output.on("error", (err: unknown) => this.destroy(this.typed(err)));
    other.output.on("end", () => this.otherEnded?.());
    this.pendingOther = bytes;
    return -1;
  }

  private toOther(chunk: Buffer, done: TransformCallback): void {
    const input = (this.otherReader as OtherReader).input;
    // The first call carries the bytes held for the header (which include this chunk).
    const bytes = this.pendingOther ?? chunk;
    this.pendingOther = undefined;
    if (input.write(bytes)) done();
    else input.once("drain", () => done());
  }
}
