/**
 * The upload encryptor on Node.js, for tests, benchmarks and tools: the Encryption SDK for Node.js
 * with a raw RSA-OAEP-SHA256 keyring and suite 0x0178, the message the browser writes. Its stream
 * cannot know a frame is the last, so when the plaintext is a positive multiple of the frame length it
 * closes with an empty final frame — 32 bytes more than `uploadCiphertextLength` (see
 * `uploadCiphertextLengths`); the ingest reads both.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { buildEncrypt } from "@aws-crypto/encrypt-node";
import { type AwsEsdkKeyObject, CommitmentPolicy } from "@aws-crypto/material-management-node";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { StorageConfigError } from "../errors.ts";
import { type EncryptUploadOptions, uploadFrameLength, uploadSuiteId } from "./format.ts";

// Writing the non-committing suite CloudFront uses needs the policy that permits it.
const client = buildEncrypt({
  commitmentPolicy: CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
});

export type EncryptUploadStreamOptions = EncryptUploadOptions;

function keyring(options: EncryptUploadOptions): RawRsaKeyringNode {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(options.publicKey.pem);
  } catch {
    throw new StorageConfigError("publicKey.pem is not a valid PEM public key");
  }
  return new RawRsaKeyringNode({
    keyNamespace: options.publicKey.providerId,
    keyName: options.publicKey.keyName,
    // The SDK's key type lists only the key types it uses.
    rsaKey: { publicKey: publicKey as unknown as AwsEsdkKeyObject },
    oaepHash: "sha256",
  });
}

/**
 * Encrypts a stream for upload in constant memory; the output is one upload message.
 *
 * @example
 * await store.upload(inbox, encryptUploadStream(createReadStream(path), { publicKey, context }));
 */
export function encryptUploadStream(source: Readable, options: EncryptUploadOptions): Readable {
  const encryptor = client.encryptStream(keyring(options), {
    suiteId: uploadSuiteId,
    encryptionContext: { ...options.context },
    frameLength: options.frameLength ?? uploadFrameLength,
  });
  source.on("error", (err) => encryptor.destroy(err));
  return source.pipe(encryptor) as unknown as Readable;
}

/**
 * Encrypts `plaintext` for upload, in memory: `encryptUploadStream` over one buffer. Same signature as
 * the browser's `encryptUpload` (`@veil/storage/upload-web`).
 *
 * @example
 * const message = await encryptUpload(jpeg, { publicKey, context: uploadEncryptionContext(imageId) });
 */
export async function encryptUpload(
  plaintext: Uint8Array,
  options: EncryptUploadOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const message = await buffer(encryptUploadStream(Readable.from([Buffer.from(plaintext)]), options));
  return new Uint8Array(message.buffer, message.byteOffset, message.byteLength) as Uint8Array<ArrayBuffer>;
}
