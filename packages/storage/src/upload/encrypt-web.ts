/**
 * The browser's upload encryptor: the AWS Encryption SDK for browsers (`@aws-crypto/client-browser`,
 * WebCrypto underneath) with a raw RSA keyring over the FLE public key (RSA-OAEP-SHA256), suite
 * 0x0178, framed (see README "Upload format"). Also runs on Node.js ≥ 20 once `globalThis.self` is
 * set (the SDK looks for WebCrypto on `window` or `self`), which is how the tests run it.
 */
import {
  type EncryptUploadOptions,
  uploadCiphertextLength,
  uploadFrameLength,
  uploadMaxFrameLength,
  uploadSuiteId,
} from "./format.ts";

export type { EncryptUploadOptions, UploadPublicKey } from "./format.ts";

let loading: Promise<typeof import("./browser-sdk.ts")> | undefined;

/** The SDK, loaded on the first upload: a page that never uploads never downloads it. */
function browserSdk() {
  // The SDK's ASN.1 dependency loads the `buffer` package, which reads Node's `global` as it loads;
  // a browser has the same object as `globalThis`.
  (globalThis as { global?: unknown }).global ??= globalThis;
  loading ??= import("./browser-sdk.ts").catch((err: unknown) => {
    loading = undefined; // a failed download is tried again on the next upload
    throw err;
  });
  return loading;
}

function pemToDer(pem: string): Uint8Array {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  const text = atob(body);
  const der = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) der[i] = text.charCodeAt(i);
  return der;
}

/**
 * Encrypts `plaintext` for upload: one Encryption SDK message whose length is exactly
 * `uploadCiphertextLength(plaintext.byteLength, …)`, the length the presigned PUT is signed for.
 *
 * @example
 * const body = await encryptUpload(new Uint8Array(await file.arrayBuffer()), {
 *   publicKey: ticket.publicKey,
 *   context: ticket.encryption.encryptionContext,
 *   frameLength: ticket.encryption.frameLength,
 * });
 */
export async function encryptUpload(
  plaintext: Uint8Array,
  options: EncryptUploadOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  const frameLength = options.frameLength ?? uploadFrameLength;
  if (!Number.isInteger(frameLength) || frameLength < 1 || frameLength > uploadMaxFrameLength) {
    throw new RangeError("frameLength out of range");
  }
  const { publicKey } = options;
  const sdk = await browserSdk();
  const keyring = new sdk.RawRsaKeyringWebCrypto({
    keyNamespace: publicKey.providerId,
    keyName: publicKey.keyName,
    publicKey: await sdk.RawRsaKeyringWebCrypto.importPublicKey({
      format: "spki",
      key: pemToDer(publicKey.pem),
      padding: sdk.RsaPadding.OAEP_SHA256_MFG1,
    }),
  });
  // The SDK cuts frames out of `plaintext.buffer` counting from its start: a view elsewhere is copied.
  const whole = plaintext.byteOffset === 0 ? plaintext : new Uint8Array(plaintext);
  const { result, messageHeader } = await sdk.client.encrypt(keyring, whole, {
    suiteId: uploadSuiteId,
    encryptionContext: { ...options.context },
    frameLength,
  });
  const wrapped = messageHeader.encryptedDataKeys[0]?.encryptedDataKey.byteLength ?? 0;
  const signed = uploadCiphertextLength(plaintext.byteLength, {
    providerId: publicKey.providerId,
    keyName: publicKey.keyName,
    modulusBytes: wrapped,
    context: options.context,
    frameLength,
  });
  // S3 would refuse any other length against the signed one; say so here instead.
  if (result.byteLength !== signed) throw new Error("upload message length differs from the signed length");
  return result as Uint8Array<ArrayBuffer>;
}
