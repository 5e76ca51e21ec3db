/**
 * `createEnvelopeCrypto`: the in-memory envelope (`envelope.ts`) plus constant-memory streams — the
 * default suite written and read directly, the signed one through the Encryption SDK's stream client.
 * Kept apart because that client (`@aws-crypto/encrypt-node` and `decrypt-node` with
 * `readable-stream`, `duplexify` and friends, ~70 KB minified) would otherwise be in every bundle that
 * imports the envelope, streaming or not — the records handler does not stream.
 */
import { PassThrough, type Readable, type Transform } from "node:stream";
import { buildDecrypt } from "@aws-crypto/decrypt-node";
import { buildEncrypt } from "@aws-crypto/encrypt-node";
import { SignaturePolicy } from "@aws-crypto/material-management-node";
import type { RecordContext } from "./context.ts";
import { messageContext } from "./context.ts";
import {
  type EnvelopeOptions,
  envelopeParts,
  expecting,
  type InMemoryEnvelopeCrypto,
  maxStreamFrameLength,
  typed,
  withCommittedDataKey,
} from "./envelope.ts";
import { EncryptError } from "./errors.ts";
import { committedSuiteId, startCommittedMessage } from "./message/committed-message.ts";
import { CommittedDecryptStream, committedKeysFor } from "./message/committed-read-stream.ts";
import { CommittedEncryptStream } from "./message/committed-stream.ts";
import { suiteFor } from "./message/format.ts";

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
 * Connects `source` to a transform whose own errors are already typed: a failing source destroys it
 * (with the phase's typed error, as `relay`), and a consumer that stops reading early destroys the source.
 */
function feed<T extends Transform>(source: Readable, transform: T, phase: "encrypt" | "decrypt"): T {
  let failed = false;
  const fail = (err?: unknown) => {
    if (failed) return;
    failed = true;
    source.unpipe(transform);
    source.destroy();
    if (err !== undefined) transform.destroy(typed(err, phase));
  };
  source.on("error", fail);
  transform.on("error", () => fail());
  transform.on("close", () => {
    if (!transform.readableEnded) fail();
  });
  source.pipe(transform);
  return transform;
}

/**
 * Creates envelope encryption for one deployment, streams included: `createInMemoryEnvelopeCrypto`
 * (same options, same caches and KMS calls shared by messages and streams) plus `encryptStream` and
 * `decryptStream` (the default suite 0x0478 directly, any other through the SDK's stream client).
 */
export function createEnvelopeCrypto(options: EnvelopeOptions): EnvelopeCrypto {
  const { api, cmm, deployment, suiteId, frameLength, commitmentPolicy, maxEncryptedDataKeys } =
    envelopeParts(options);
  const client = {
    ...buildEncrypt({ commitmentPolicy, maxEncryptedDataKeys }),
    ...buildDecrypt({ commitmentPolicy, maxEncryptedDataKeys }),
  };
  return {
    ...api,
    encryptStream(source, ctx) {
      const encryptionContext = messageContext(deployment, ctx);
      if (suiteId === committedSuiteId) {
        // The default suite: written directly (committed-stream.ts), with a data key of its own.
        const request = { suite: suiteFor(suiteId), encryptionContext, commitmentPolicy };
        const start = cmm.useEncryptionMaterial(request, (material) => {
          if (material.suite.id !== committedSuiteId) throw new EncryptError("material of another suite");
          const { encryptedDataKeys } = material;
          if (encryptedDataKeys.length > maxEncryptedDataKeys) {
            throw new EncryptError("too many encrypted data keys");
          }
          const key = { dataKey: material.getUnencryptedDataKey(), encryptedDataKeys };
          return startCommittedMessage(key, encryptionContext, frameLength);
        });
        const stream = new CommittedEncryptStream(start, frameLength, (err) => typed(err, "encrypt"));
        return feed(source, stream, "encrypt");
      }
      return relay(source, client.encryptStream(cmm, { suiteId, encryptionContext, frameLength }), "encrypt");
    },
    decryptStream(source, ctx) {
      const expected = messageContext(deployment, ctx);
      // Messages of the default suite are read directly (committed-read-stream.ts), after the checks
      // `expecting` makes before any data key is unwrapped; any other goes whole to the SDK's stream.
      const stream = new CommittedDecryptStream({
        commitmentPolicy,
        signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_ALLOW_DECRYPT,
        maxEncryptedDataKeys,
        // Frames are authenticated in the header, but bounding them anyway caps what one frame buffers.
        maxBodySize: maxStreamFrameLength,
        keys: (info) =>
          withCommittedDataKey(cmm, info, expected, (dataKey) => committedKeysFor(dataKey, info)),
        typed: (err) => typed(err, "decrypt"),
        other: () => {
          const input = new PassThrough();
          const decrypt = client.decryptStream(expecting(cmm, expected), {
            maxBodySize: maxStreamFrameLength,
          });
          return { input, output: relay(input, decrypt, "decrypt") };
        },
      });
      return feed(source, stream, "decrypt");
    },
  };
}
