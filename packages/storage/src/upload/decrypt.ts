/**
 * Opens an encrypted image upload as a stream, in constant memory: the Encryption SDK's unsigned-message
 * decrypt stream behind a materials manager that refuses any suite but 0x0178 and any encryption
 * context but the expected one before the RSA private key is used, frames capped at
 * `uploadMaxFrameLength`, and a plaintext byte limit. A refused message is an `ImageRejectedError`;
 * a failing source keeps its own (storage) error.
 */
import { createPrivateKey } from "node:crypto";
import { PassThrough, type Readable, Transform, type TransformCallback } from "node:stream";
import {
  buildClient,
  CommitmentPolicy,
  MultiKeyringNode,
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { ImageRejectedError, StorageConfigError, StorageError } from "../errors.ts";
import { uploadMaxFrameLength, uploadSuiteId } from "./format.ts";

/** One FLE private key (current or previous during a rotation) with its names. */
export interface UploadDecryptKey {
  readonly providerId: string;
  readonly keyName: string;
  readonly privateKeyPem: string;
}

export interface OpenUploadOptions {
  /** The current key first; the previous one while a rotation drains. */
  readonly keys: readonly UploadDecryptKey[];
  /** The exact encryption context the upload must carry. */
  readonly context: Readonly<Record<string, string>>;
  /** Plaintext bytes allowed; one more is `tooLarge`. */
  readonly maxPlaintextBytes: number;
}

// Reading CloudFront's non-committing suite needs the policy that allows decrypting it.
const client = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
});

const keyrings = new Map<string, RawRsaKeyringNode>();

function keyringFor(key: UploadDecryptKey): RawRsaKeyringNode {
  const id = `${key.providerId}\0${key.keyName}\0${key.privateKeyPem}`;
  let keyring = keyrings.get(id);
  if (!keyring) {
    let privateKey: ReturnType<typeof createPrivateKey>;
    try {
      privateKey = createPrivateKey(key.privateKeyPem);
    } catch {
      throw new StorageConfigError("privateKeyPem is not a valid PEM private key");
    }
    keyring = new RawRsaKeyringNode({
      keyNamespace: key.providerId,
      keyName: key.keyName,
      rsaKey: { privateKey: privateKey as never },
      oaepHash: "sha256",
    });
    if (keyrings.size >= 8) keyrings.delete(keyrings.keys().next().value as string);
    keyrings.set(id, keyring);
  }
  return keyring;
}

function sameContext(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>) {
  const a = Object.keys(actual);
  return a.length === Object.keys(expected).length && a.every((k) => actual[k] === expected[k]);
}

/** Refuses the wrong suite or context before any RSA private-key operation. */
function guardedCmm(options: OpenUploadOptions): NodeMaterialsManager {
  if (options.keys.length === 0) throw new StorageConfigError("at least one upload key is needed");
  const [first, ...rest] = options.keys.map(keyringFor);
  const keyring =
    rest.length === 0 ? (first as RawRsaKeyringNode) : new MultiKeyringNode({ children: [first!, ...rest] });
  const inner = new NodeDefaultCryptographicMaterialsManager(keyring);
  return {
    getEncryptionMaterials: () => Promise.reject(new StorageConfigError("upload keys cannot encrypt")),
    decryptMaterials: async (request) => {
      if (request.suite.id !== uploadSuiteId) throw new ImageRejectedError("undecryptable", "suite");
      if (!sameContext(request.encryptionContext, options.context)) {
        throw new ImageRejectedError("undecryptable", "context");
      }
      return inner.decryptMaterials(request);
    },
  };
}

/** Counts plaintext bytes and fails as soon as there are too many. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.max) done(new ImageRejectedError("tooLarge", "plaintext over limit"));
    else done(null, chunk);
  }
}

/** Keeps this package's typed errors (a failing source stays a storage error: retryable, not a rejection). */
function typed(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  return new ImageRejectedError("undecryptable", "message refused");
}

/**
 * Decrypts an upload stream. The output fails with an `ImageRejectedError` or the source's
 * `StorageError`; frames are released
 * once authenticated, but a truncated message is detected only at the end: treat the output as valid
 * only after `end`. Destroying the output destroys the source.
 */
export function openUpload(source: Readable, options: OpenUploadOptions): Readable {
  const decryptor = client.decryptUnsignedMessageStream(guardedCmm(options), {
    maxBodySize: uploadMaxFrameLength,
  });
  const limit = new ByteLimit(options.maxPlaintextBytes);
  const out = new PassThrough();
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    source.unpipe();
    source.destroy();
    decryptor.destroy();
    limit.destroy();
    out.destroy(typed(err));
  };
  source.on("error", fail);
  decryptor.on("error", fail);
  limit.on("error", fail);
  out.on("close", () => {
    if (!out.readableEnded && !failed) fail(new ImageRejectedError("undecryptable", "closed early"));
  });
  source.pipe(decryptor).pipe(limit).pipe(out);
  return out;
}
