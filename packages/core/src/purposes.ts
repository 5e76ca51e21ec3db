/**
 * The `purpose` of each kind of envelope-encrypted data: part of every ciphertext's encryption context
 * and of the context KMS sees, so the key policy can let a function use the key for one kind only
 * (`kms:EncryptionContext:purpose`, infra/kms.ts). Values are stored in ciphertexts: never rename.
 */
export const encryptionPurposes = {
  /** The sensitive fields of a record (records function). */
  recordFields: "record.sensitive",
  /** A stored image of a record (image ingest writes, image download reads). */
  recordImage: "record.image",
} as const;

export type EncryptionPurpose = (typeof encryptionPurposes)[keyof typeof encryptionPurposes];
