export type { AccountErasure } from "./account.ts";
export * as account from "./account.ts";
export {
  appRoleNoAccess,
  appSequenceUsage,
  appTablePrivileges,
  type TablePrivileges,
} from "./app-privileges.ts";
export {
  AppRoleError,
  type AppRoleOptions,
  type AppRoleResult,
  defaultAppRole,
  grantAppRole,
} from "./app-role.ts";
export type { AuditEvent } from "./audit.ts";
export * as audit from "./audit.ts";
export * from "./errors.ts";
export type { ClaimResult, IdempotencyEntry } from "./idempotency.ts";
export * as idempotency from "./idempotency.ts";
export type { ImageObjectDeletion } from "./image-deletions.ts";
export * as imageDeletions from "./image-deletions.ts";
export type { ImageContentType, ImageRow, ImageStatus } from "./images.ts";
export * as images from "./images.ts";
export { type MigrateOptions, type MigrateResult, migrate } from "./migrate.ts";
export { type AuditAction, auditActions, type Migration, migrations } from "./migrations.ts";
export { createPool, type PoolOptions, type RdsPoolOptions, type UrlPoolOptions } from "./pool.ts";
export type { ProofUse, ProofUseResult } from "./proofs.ts";
export * as proofs from "./proofs.ts";
export type { Queryable } from "./query.ts";
export { type RdsTokenOptions, rdsTokenProvider, tokenExpiry } from "./rds-token.ts";
export type { ListOptions, RecordRow } from "./records.ts";
export * as records from "./records.ts";
export { newRecordId } from "./records.ts";
export { type TransactionOptions, withTransaction } from "./transaction.ts";
