/**
 * The reference upload encryptor on Node.js: the Encryption SDK itself, with a raw RSA-OAEP-SHA256
 * keyring and suite 0x0178 — byte layout identical to CloudFront FLE and to `encryptUpload` (WebCrypto).
 * Used by tests, benchmarks and tools; the browser uses `encryptUpload`.
 */
import { createPublicKey } from "node:crypto";
import type { Readable } from "node:stream";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { StorageConfigError } from "../errors.ts";
import type { UploadPublicKey } from "./encrypt-web.ts";
import { uploadFrameLength, uploadSuiteId } from "./format.ts";

// Writing the non-committing suite CloudFront uses needs the policy that permits it.
const client = buildClient({
  commitmentPolicy: CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
});

export interface EncryptUploadStreamOptions {
  readonly publicKey: UploadPublicKey;
  readonly context: Readonly<Record<string, string>>;
  readonly frameLength?: number;
}

/** Encrypts a stream for upload in constant memory; the output is one upload message. */
export function encryptUploadStream(source: Readable, options: EncryptUploadStreamOptions): Readable {
  let publicKey: ReturnType<typeof createPublicKey>;
  try {
    publicKey = createPublicKey(options.publicKey.pem);
  } catch {
    throw new StorageConfigError("publicKey.pem is not a valid PEM public key");
  }
  const keyring = new RawRsaKeyringNode({
    keyNamespace: options.publicKey.providerId,
    keyName: options.publicKey.keyName,
    rsaKey: { publicKey: publicKey as never },
    oaepHash: "sha256",
  });
  const encryptor = client.encryptStream(keyring, {
    suiteId: uploadSuiteId,
    encryptionContext: { ...options.context },
    frameLength: options.frameLength ?? uploadFrameLength,
  });
  source.on("error", (err) => encryptor.destroy(err));
  return source.pipe(encryptor) as unknown as Readable;
}
