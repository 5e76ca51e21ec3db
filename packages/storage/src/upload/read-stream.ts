/**
 * Reads an encrypted upload (suite 0x0178, see format.ts) as a stream, without the Encryption SDK's
 * stream client: the SDK's parsers for the header and the frame headers, `node:crypto` for the rest.
 * The SDK's pipeline (readable-stream, duplexify, a `setImmediate` per frame and per header, a copy
 * of every partial frame header) cost more than the AES itself on a 50 MiB image.
 *
 * The steps are the SDK's `decryptUnsignedMessageStream` with the ingest's materials manager, in its
 * order: header parse (at most one data key), then — before any private-key work — the suite must be
 * 0x0178 and the encryption context exactly the expected one; the raw RSA keyring's rule (a key
 * unwraps only a data key wrapped for its provider id and key name; RSA-OAEP-SHA256; the first key
 * that succeeds wins; the data key must be the suite's 32 bytes); HKDF-SHA256 without salt over
 * suite id ‖ message id; the header tag; then frames with sequence numbers from 1, each at most
 * `maxFrameBytes`, AAD = message id ‖ content string ‖ sequence number ‖ content length, and a frame's
 * plaintext released only once its tag verified. Stricter than the SDK's stream in two points, both
 * refusals: an unframed body, and any byte after the final frame (the SDK ignores them when unsigned).
 * `read-stream.test.ts` checks it against the SDK on every bit flip and truncation.
 */
import {
  constants,
  createDecipheriv,
  createPrivateKey,
  type DecipherGCM,
  hkdfSync,
  type KeyObject,
  privateDecrypt,
} from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { NodeAlgorithmSuite } from "@aws-crypto/client-node";
import {
  type BodyHeader,
  decodeBodyHeader,
  deserializeFactory,
  type HeaderInfo,
} from "@aws-crypto/serialize";
import { ImageRejectedError, StorageConfigError } from "../errors.ts";
import { uploadSuiteId } from "./format.ts";

/** One FLE private key (current or previous during a rotation) with its names. */
export interface UploadDecryptKey {
  readonly providerId: string;
  readonly keyName: string;
  readonly privateKeyPem: string;
}

export interface UploadReadOptions {
  /** The current key first; the previous one while a rotation drains. */
  readonly keys: readonly UploadDecryptKey[];
  /** The exact encryption context the upload must carry. */
  readonly context: Readonly<Record<string, string>>;
  /** Plaintext bytes allowed; one more is `tooLarge`. */
  readonly maxPlaintextBytes: number;
  /** Largest frame accepted: what is buffered at most to authenticate a frame. */
  readonly maxFrameBytes: number;
}

const toUtf8 = (input: Uint8Array) =>
  Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("utf8");
const deserializer = deserializeFactory(toUtf8, NodeAlgorithmSuite);

/** Suite 0x0178: 256-bit data key, 96-bit IVs, 128-bit tags; framed content. */
const keyBytes = 32;
const tagBytes = 16;
const framedContent = 2;
/** The longest frame header: final marker, sequence number, IV, content length. */
const maxFrameHeaderBytes = 4 + 4 + 12 + 4;
const frameLabel = Buffer.from("AWSKMSEncryptionClient Frame");
const finalFrameLabel = Buffer.from("AWSKMSEncryptionClient Final Frame");

const privateKeys = new Map<string, KeyObject>();

/** The parsed private key of `pem`, parsed once (a few are kept: current and previous). */
export function uploadPrivateKey(pem: string): KeyObject {
  let key = privateKeys.get(pem);
  if (!key) {
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new StorageConfigError("privateKeyPem is not a valid PEM private key");
    }
    if (privateKeys.size >= 8) privateKeys.delete(privateKeys.keys().next().value as string);
    privateKeys.set(pem, key);
  }
  return key;
}

function sameContext(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>) {
  const a = Object.keys(actual);
  return a.length === Object.keys(expected).length && a.every((k) => actual[k] === expected[k]);
}

const refused = (detail: string) => new ImageRejectedError("undecryptable", detail);

/** Runs an SDK parser step; any exception is a refusal that quotes nothing of the input. */
function parsed<T>(step: () => T): T {
  try {
    return step();
  } catch {
    throw refused("message refused");
  }
}

type Phase = "header" | "frameHeader" | "content" | "tag" | "done";

/** The decrypting transform. Errors are `ImageRejectedError`s; see the module comment. */
export class UploadDecryptStream extends Transform {
  /** Plaintext bytes released. */
  bytes = 0;
  private phase: Phase = "header";
  /** Bytes of an incomplete header, frame header or tag, kept between chunks. */
  private held: Buffer[] = [];
  private heldLength = 0;
  private info: HeaderInfo | undefined;
  private key: Buffer | undefined;
  private messageId = Buffer.alloc(0);
  private sequenceNumber = 0;
  private frame: BodyHeader | undefined;
  private decipher: DecipherGCM | undefined;
  private contentLeft = 0;
  private plaintext: Buffer[] = [];

  constructor(private readonly options: UploadReadOptions) {
    super();
    if (options.keys.length === 0) throw new StorageConfigError("at least one upload key is needed");
    for (const key of options.keys) uploadPrivateKey(key.privateKeyPem);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err instanceof ImageRejectedError ? err : refused("message refused"));
    }
  }

  override _flush(done: TransformCallback): void {
    this.zero();
    done(this.phase === "done" ? null : refused("truncated"));
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.zero();
    this.plaintext = [];
    done(err);
  }

  private zero(): void {
    this.key?.fill(0);
    this.key = undefined;
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

  private consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.phase) {
        case "header": {
          const bytes = this.joined(chunk, at, chunk.length);
          const info = parsed(() =>
            deserializer.deserializeMessageHeader(bytes, { maxEncryptedDataKeys: 1 }),
          );
          if (!info) {
            this.hold(chunk, at);
            return;
          }
          const end = info.headerLength + info.headerAuth.headerAuthLength;
          at += end - this.heldLength;
          this.release();
          this.begin(info);
          this.phase = "frameHeader";
          break;
        }
        case "frameHeader": {
          const bytes = this.joined(chunk, at, maxFrameHeaderBytes);
          const info = this.info as HeaderInfo;
          const frame = parsed(() => decodeBodyHeader(bytes, info, 0));
          if (!frame) {
            this.hold(chunk, at);
            return;
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
            return;
          }
          const tag = this.joined(chunk, at, n);
          at += n;
          this.release();
          this.endFrame(tag);
          break;
        }
        case "done":
          // The SDK ignores bytes after an unsigned message's final frame; an upload has none.
          throw refused("trailing bytes");
      }
    }
  }

  /** Suite and context, then the data key, the derived key and the header tag. */
  private begin(info: HeaderInfo): void {
    const { messageHeader } = info;
    if (info.algorithmSuite.id !== uploadSuiteId) throw refused("suite");
    if (!sameContext(messageHeader.encryptionContext, this.options.context)) throw refused("context");
    if (messageHeader.contentType !== framedContent) throw refused("message refused");
    const dataKey = this.unwrap(info);
    try {
      const suiteInfo = Buffer.allocUnsafe(2 + messageHeader.messageId.byteLength);
      suiteInfo.writeUInt16BE(uploadSuiteId, 0);
      suiteInfo.set(messageHeader.messageId, 2);
      this.key = Buffer.from(hkdfSync("sha256", dataKey, Buffer.alloc(0), suiteInfo, keyBytes));
    } finally {
      dataKey.fill(0);
    }
    this.info = info;
    this.messageId = Buffer.from(messageHeader.messageId);
    const { headerIv, headerAuthTag } = info.headerAuth;
    try {
      const check = this.decipherFor(headerIv);
      check.setAAD(Buffer.from(info.rawHeader));
      check.setAuthTag(Buffer.from(headerAuthTag));
      check.final();
    } catch {
      throw refused("message refused");
    }
  }

  /** The raw RSA keyring's rule, over the keys in order. */
  private unwrap(info: HeaderInfo): Buffer {
    for (const edk of info.messageHeader.encryptedDataKeys) {
      for (const key of this.options.keys) {
        if (edk.providerId !== key.providerId || edk.providerInfo !== key.keyName) continue;
        let dataKey: Buffer;
        try {
          dataKey = privateDecrypt(
            {
              key: uploadPrivateKey(key.privateKeyPem),
              padding: constants.RSA_PKCS1_OAEP_PADDING,
              oaepHash: "sha256",
            },
            edk.encryptedDataKey,
          );
        } catch {
          continue;
        }
        if (dataKey.length === keyBytes) return dataKey;
        dataKey.fill(0);
      }
    }
    throw refused("message refused");
  }

  private decipherFor(iv: Uint8Array): DecipherGCM {
    return createDecipheriv("aes-256-gcm", this.key as Buffer, iv, { authTagLength: tagBytes });
  }

  private startFrame(frame: BodyHeader): void {
    if (frame.contentLength > this.options.maxFrameBytes) throw refused("frame too long");
    if (frame.sequenceNumber !== ++this.sequenceNumber) throw refused("frame out of order");
    const label = frame.isFinalFrame ? finalFrameLabel : frameLabel;
    const aad = Buffer.allocUnsafe(this.messageId.length + label.length + 12);
    this.messageId.copy(aad, 0);
    label.copy(aad, this.messageId.length);
    const end = this.messageId.length + label.length;
    aad.writeUInt32BE(frame.sequenceNumber, end);
    aad.writeUInt32BE(Math.floor(frame.contentLength / 2 ** 32), end + 4);
    aad.writeUInt32BE(frame.contentLength % 2 ** 32, end + 8);
    this.decipher = this.decipherFor(frame.iv);
    this.decipher.setAAD(aad);
    this.frame = frame;
    this.contentLeft = frame.contentLength;
    this.phase = frame.contentLength > 0 ? "content" : "tag";
  }

  /** Checks the frame's tag; only then is its plaintext released. */
  private endFrame(tag: Buffer): void {
    const decipher = this.decipher as DecipherGCM;
    let rest: Buffer;
    try {
      decipher.setAuthTag(tag);
      rest = decipher.final();
    } catch {
      this.plaintext = [];
      throw refused("message refused");
    }
    if (rest.length > 0) this.plaintext.push(rest);
    const plaintext = this.plaintext;
    this.plaintext = [];
    this.decipher = undefined;
    for (const piece of plaintext) {
      this.bytes += piece.length;
      if (this.bytes > this.options.maxPlaintextBytes) {
        throw new ImageRejectedError("tooLarge", "plaintext over limit");
      }
      this.push(piece);
    }
    if ((this.frame as BodyHeader).isFinalFrame) {
      this.phase = "done";
      this.zero();
    } else {
      this.phase = "frameHeader";
    }
  }
}
