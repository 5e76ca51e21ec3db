/**
 * Writes one 0x0478 message (the envelope's default suite) as a stream, in constant memory, without
 * the SDK's stream client: header and tag from `startCommittedMessage`, then frames of `frameLength`
 * by `sealFrame` as the input arrives, and at the end the final frame with the rest (possibly empty) —
 * the SDK's `encryptStream` layout, byte for byte. The SDK's pipeline (readable-stream, duplexify, a
 * `setImmediate` per frame, per-frame objects and copies) cost several times the AES itself on a
 * 50 MiB image; this holds at most one frame of input (references to the chunks, no copy) and
 * encrypts each chunk once. `committed-stream.test.ts` checks its output with the SDK's own client.
 */
import { Transform, type TransformCallback } from "node:stream";
import type { CommittedMessageStart } from "./committed-message.ts";
import { committedFrameCipher } from "./committed-message.ts";
import { type GetFrameCipher, sealFrame } from "./frame.ts";

/**
 * The message as a transform: plaintext in, ciphertext out. `start` resolves to the message start
 * (its data key comes from KMS); until then input waits. The derived key is zeroed when the stream
 * ends or is destroyed. The output ends only after the input ended: a failing input never yields a
 * complete message.
 */
export class CommittedEncryptStream extends Transform {
  private begun: CommittedMessageStart | undefined;
  private getCipher: GetFrameCipher | undefined;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private sequenceNumber = 1;

  /**
   * `typed` maps any error of the stream (the data key's arrival included) to the one it emits.
   */
  constructor(
    private readonly start: Promise<CommittedMessageStart>,
    private readonly frameLength: number,
    private readonly typed: (err: unknown) => Error = (err) => err as Error,
  ) {
    super();
    // Handled where it is awaited; this only keeps an early rejection from being reported unhandled.
    start.catch(() => undefined);
  }

  private run(step: () => void, done: TransformCallback): void {
    if (this.begun) {
      try {
        step();
        done();
      } catch (err) {
        done(this.typed(err));
      }
      return;
    }
    this.start.then(
      (begun) => {
        if (this.destroyed) return done();
        this.begun = begun;
        this.getCipher = committedFrameCipher(begun.encryptionKey);
        this.push(begun.head);
        this.run(step, done);
      },
      (err: unknown) => done(this.typed(err)),
    );
  }

  private seal(isFinalFrame: boolean): void {
    const begun = this.begun as CommittedMessageStart;
    const out: Buffer[] = [];
    sealFrame(
      this.getCipher as GetFrameCipher,
      begun.messageId,
      this.sequenceNumber++,
      this.pending,
      this.pendingLength,
      isFinalFrame,
      out,
    );
    this.pending = [];
    this.pendingLength = 0;
    for (const part of out) this.push(part);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.run(() => {
      let data = chunk;
      while (data.length > 0) {
        const n = Math.min(data.length, this.frameLength - this.pendingLength);
        this.pending.push(n === data.length ? data : data.subarray(0, n));
        this.pendingLength += n;
        data = data.subarray(n);
        // A full frame is never the final one (the SDK's rule): the final frame holds the rest, 0 or more.
        if (this.pendingLength === this.frameLength) this.seal(false);
      }
    }, done);
  }

  override _flush(done: TransformCallback): void {
    this.run(() => {
      this.seal(true);
      this.zero();
    }, done);
  }

  override _destroy(err: Error | null, done: (error: Error | null) => void): void {
    this.zero();
    this.pending = [];
    done(err);
  }

  /** Zeroes the derived key, also when it arrives only after the end. */
  private zero(): void {
    this.getCipher = undefined;
    this.begun?.encryptionKey.fill(0);
    this.start.then(
      (begun) => begun.encryptionKey.fill(0),
      () => undefined,
    );
  }
}
