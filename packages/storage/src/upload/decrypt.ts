/**
 * Opens an encrypted image upload as a stream, in constant memory: `UploadDecryptStream`
 * (read-stream.ts), which refuses any suite but 0x0178 and any encryption context but the expected
 * one before the RSA private key is used, caps frames at `uploadMaxFrameLength`, and the plaintext at
 * a byte limit. A refused message is an `ImageRejectedError`; a failing source keeps its own
 * (storage) error.
 */
import type { Readable } from "node:stream";
import { ImageRejectedError, StorageError } from "../errors.ts";
import { uploadMaxFrameLength } from "./format.ts";
import { type UploadDecryptKey, UploadDecryptStream } from "./read-stream.ts";

export type { UploadDecryptKey } from "./read-stream.ts";

export interface OpenUploadOptions {
  /** The current key first; the previous one while a rotation drains. */
  readonly keys: readonly UploadDecryptKey[];
  /** The exact encryption context the upload must carry. */
  readonly context: Readonly<Record<string, string>>;
  /** Plaintext bytes allowed; one more is `tooLarge`. */
  readonly maxPlaintextBytes: number;
}

/**
 * Decrypts an upload stream. The output fails with an `ImageRejectedError` or the source's
 * `StorageError`; frames are released once authenticated, but a truncated message is detected only
 * at the end: treat the output as valid only after `end`. Destroying the output destroys the source.
 */
export function openUpload(source: Readable, options: OpenUploadOptions): Readable {
  const decryptor = new UploadDecryptStream({ ...options, maxFrameBytes: uploadMaxFrameLength });
  let failed = false;
  const fail = (err?: unknown) => {
    if (failed) return;
    failed = true;
    source.unpipe(decryptor);
    source.destroy();
    if (err !== undefined) {
      decryptor.destroy(
        err instanceof StorageError ? err : new ImageRejectedError("undecryptable", "source"),
      );
    }
  };
  source.on("error", fail);
  decryptor.on("error", () => fail());
  decryptor.on("close", () => {
    if (!decryptor.readableEnded) fail(new ImageRejectedError("undecryptable", "closed early"));
  });
  source.pipe(decryptor);
  return decryptor;
}
