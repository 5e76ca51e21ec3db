/**
 * `@veil/storage/upload-web`: what the browser needs to encrypt an image upload — WebCrypto only, no
 * Node.js module, no AWS SDK.
 */
export type { EncryptUploadOptions, UploadPublicKey } from "./encrypt-web.ts";
export { encryptUpload } from "./encrypt-web.ts";
export type { UploadLayout } from "./format.ts";
export { uploadCiphertextLength, uploadEncryptionContext, uploadFrameLength } from "./format.ts";
