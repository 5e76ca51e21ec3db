/**
 * `@veil/storage/upload-web`: what the browser needs to encrypt an image upload — the Encryption SDK
 * for browsers over WebCrypto, no Node.js module, no AWS SDK client.
 */
export type { EncryptUploadOptions, UploadPublicKey } from "./encrypt-web.ts";
export { encryptUpload } from "./encrypt-web.ts";
export type { UploadLayout } from "./format.ts";
export { uploadCiphertextLength, uploadEncryptionContext, uploadFrameLength } from "./format.ts";
