/**
 * `createEnvelopeCrypto`: the in-memory envelope (`envelope.ts`) plus constant-memory streams through
 * the Encryption SDK client's `encryptStream` and `decryptStream`, with the same materials manager and
 * caches. The SDK releases a frame's plaintext only after that frame's tag has verified.
 */
import { PassThrough, type Readable } from "node:stream";
import type { RecordContext } from "./context.ts";
import { messageContext } from "./context.ts";
import {
  assertHeaderContext,
  type EnvelopeOptions,
  envelopeParts,
  expecting,
  type InMemoryEnvelopeCrypto,
  maxStreamFrameLength,
  typed,
} from "./envelope.ts";
import { EncryptError } from "./errors.ts";

/** Envelope encryption bound to one deployment and one KMS key: in-memory messages and streams. */
export interface EnvelopeCrypto extends InMemoryEnvelopeCrypto {
  /** Encrypts a stream in constant memory (own data key per stream). Errors are typed. */
  encryptStream(source: Readable, ctx: RecordContext): Readable;
  /**
   * Decrypts a stream in constant memory. Each frame is authenticated before it is released, but a
   * truncated message is only detected at the end: treat the output as valid only after `end`.
   */
  decryptStream(source: Readable, ctx: RecordContext): Readable;
}

/**
 * Pipes `source` through an Encryption SDK stream into a fresh readable whose only error is typed.
 * On failure the SDK stream is ended and drained rather than destroyed: destroying it while its
 * materials are still on their way makes the SDK emit an error nobody can listen to.
 */
function relay(source: Readable, transform: NodeJS.ReadWriteStream, phase: "encrypt" | "decrypt"): Readable {
  const out = new PassThrough();
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    source.unpipe(transform as NodeJS.WritableStream);
    transform.unpipe(out);
    source.destroy();
    transform.on("data", () => {});
    transform.end();
    out.destroy(typed(err, phase));
  };
  source.on("error", fail);
  transform.on("error", fail);
  out.on("close", () => {
    if (!out.readableEnded && !failed) fail(new EncryptError("stream closed early"));
  });
  source.pipe(transform as NodeJS.WritableStream);
  transform.pipe(out);
  return out;
}

/**
 * Creates envelope encryption for one deployment, streams included: `createInMemoryEnvelopeCrypto`
 * (same options; messages and streams share one client, materials manager, cache and KMS client) plus
 * `encryptStream` and `decryptStream`.
 *
 * @example
 * const envelope = createEnvelopeCrypto({ app: "veil", stage: "dev", kms: { keyId: keyArn } });
 * const ctx = { ownerId, recordId: imageId, purpose: "image" };
 * await pipeline(envelope.encryptStream(upload, ctx), s3Body);
 * await pipeline(envelope.decryptStream(s3Object, ctx), response);
 */
export function createEnvelopeCrypto(options: EnvelopeOptions): EnvelopeCrypto {
  const { api, client, cmm, deployment, suiteId, frameLength } = envelopeParts(options);
  return {
    ...api,
    encryptStream(source, ctx) {
      const encryptionContext = messageContext(deployment, ctx);
      return relay(source, client.encryptStream(cmm, { suiteId, encryptionContext, frameLength }), "encrypt");
    },
    decryptStream(source, ctx) {
      const expected = messageContext(deployment, ctx);
      // Both committing suites are read (`expecting` checks suite and context before any unwrap), so
      // this is `decryptStream`, not `decryptUnsignedMessageStream`; frames are authenticated either way.
      const decrypt = client.decryptStream(expecting(cmm, expected), { maxBodySize: maxStreamFrameLength });
      decrypt.once("MessageHeader", (header: Parameters<typeof assertHeaderContext>[0]) => {
        try {
          assertHeaderContext(header, expected);
        } catch (err) {
          decrypt.emit("error", err);
        }
      });
      return relay(source, decrypt, "decrypt");
    },
  };
}
