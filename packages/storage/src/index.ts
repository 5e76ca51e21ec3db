/**
 * @veil/storage — the S3 room: the object store of encrypted objects (presigned uploads, streamed
 * reads and writes, versions and their restore), the image key layout, the encrypted-upload format
 * (the Node encryptor, the ingest's streaming decryptor; the browser's is `@veil/storage/upload-web`)
 * and the image type check and metadata stripping. See README.md.
 */
export * from "./errors.ts";
export * from "./images/keys.ts";
export type {
  ObjectLocation,
  ObjectStore,
  ObjectStoreOptions,
  ObjectVersion,
  OpenedObject,
  StoredObject,
} from "./object-store.ts";
export { createObjectStore, createS3Client } from "./object-store.ts";
export type { RestoreOptions, RestoreResult } from "./restore.ts";
export { chooseVersion, restoreVersion } from "./restore.ts";
export type { SanitizeOptions } from "./sanitize/sanitize.ts";
export { detectImageType, ImageSanitizer, sanitizeImage } from "./sanitize/sanitize.ts";
export type { OpenUploadOptions, UploadDecryptKey } from "./upload/decrypt.ts";
export { openUpload } from "./upload/decrypt.ts";
export type { EncryptUploadStreamOptions } from "./upload/encrypt-node.ts";
export { encryptUpload, encryptUploadStream } from "./upload/encrypt-node.ts";
export type { EncryptUploadOptions, UploadLayout, UploadPublicKey } from "./upload/format.ts";
export {
  uploadCiphertextLength,
  uploadCiphertextLengths,
  uploadContextKey,
  uploadEncryptionContext,
  uploadFrameLength,
  uploadHeaderLength,
  uploadMaxFrameLength,
  uploadSuiteId,
} from "./upload/format.ts";
