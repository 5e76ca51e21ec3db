/**
 * @veil/crypto — CloudFront field-level encryption (decrypt, and encrypt for the local CloudFront) and
 * KMS envelope encryption of records and objects, through the AWS Encryption SDK client. See README.md.
 */
export type { DeploymentContext, MessageContext, RecordContext } from "./context.ts";
export { kmsContextKeys, messageContextKeys } from "./context.ts";
export type { DataKeyCacheStats } from "./data-key-cache.ts";
export type {
  EnvelopeCacheOptions,
  EnvelopeOptions,
  EnvelopeStats,
  InMemoryEnvelopeCrypto,
} from "./envelope.ts";
export { createInMemoryEnvelopeCrypto, defaultEnvelopeCache } from "./envelope.ts";
export type { EnvelopeCrypto } from "./envelope-streams.ts";
export { createEnvelopeCrypto } from "./envelope-streams.ts";
export * from "./errors.ts";
export { decryptFleField, encryptFleField, maxFleMessageBytes } from "./fle/fle-field.ts";
export type { DecryptFleFormOptions, EncryptFleFormOptions, FleFieldOptions } from "./fle/fle-form.ts";
export { decryptFleForm, encryptFleForm } from "./fle/fle-form.ts";
export type { FleDecryptKey, FleEncryptKey } from "./fle/keyrings.ts";
export type {
  KmsCallCounts,
  KmsClientProvider,
  KmsCredentials,
  KmsLikeClient,
  KmsOptions,
} from "./kms-client.ts";
export { answerContext, sealAnswer, sealAnswerStream, sealFrameLength } from "./sealing/answer.ts";
export { sealKeyThumbprint } from "./sealing/seal-key.ts";
export type { EnvelopeSuite } from "./suites.ts";
export { envelopeSuites, fleSuite } from "./suites.ts";
