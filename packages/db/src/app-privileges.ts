/**
 * What the application's database role may do, table by table: exactly the statements of the
 * repositories (records.ts, images.ts, image-deletions.ts, audit.ts, idempotency.ts, proofs.ts) and nothing else. `grantAppRole`
 * makes the database match this declaration on every deploy; a test fails when a migration adds a
 * table that is not declared here (or in `appRoleNoAccess`), and another runs every repository
 * function as the app role.
 *
 * Column lists are deliberate: the role cannot set what the database sets itself (ids of the audit
 * trail, timestamps, a record's first version) nor move a row to another owner.
 */

/** Privileges on one table: `true` for the whole table, a column list for those columns only. */
export interface TablePrivileges {
  readonly select?: true;
  readonly insert?: readonly string[];
  readonly update?: readonly string[];
  readonly delete?: true;
}

/** The app role's privileges per table of schema `public`. */
export const appTablePrivileges = {
  records: {
    select: true,
    insert: ["id", "owner_id", "category", "ciphertext"],
    update: ["category", "ciphertext", "version", "updated_at"],
    delete: true,
  },
  // No DELETE: images go with their record (ON DELETE CASCADE runs with the table owner's rights).
  images: {
    select: true,
    insert: ["id", "owner_id", "record_id", "content_type", "declared_size", "upload_expires_at"],
    update: ["status", "content_type", "size", "object_version", "reason", "updated_at"],
  },
  // Filled by a trigger when a ready image's row goes (with the cascade's owner rights), never by the
  // role; the image cleanup reads, counts failures and removes what S3 confirmed.
  image_object_deletions: {
    select: true,
    update: ["attempts"],
    delete: true,
  },
  // Append-only for the role as well as by trigger: no UPDATE, DELETE or TRUNCATE; `id` and `at` are
  // the database's to set.
  audit_events: {
    select: true,
    insert: ["owner_id", "actor", "action", "record_id", "request_id"],
  },
  // One row per erased account: counts and time. `owner_id` is write-only (a trigger anonymises that
  // owner's audit trail and clears it; a CHECK keeps it NULL), so the role inserts and reads counts.
  account_erasures: {
    select: true,
    insert: ["owner_id", "records", "images"],
  },
  idempotency_keys: {
    select: true,
    insert: ["owner_id", "key", "request_hash"],
    update: ["record_id", "status"],
    delete: true,
  },
  // A session's binding never changes once made, but an erasure turns it into a revocation marker
  // (owner 'erased', no key; a CHECK allows only that shape). DELETE for purging old sessions.
  proof_sessions: {
    select: true,
    insert: ["origin_jti", "owner_id", "jkt"],
    update: ["owner_id", "jkt", "revoked_at"],
    delete: true,
  },
  // Hashes of owners erased lately; `erased_at` is refreshed when an erasure is repeated.
  erased_subjects: {
    select: true,
    insert: ["subject"],
    update: ["erased_at"],
    delete: true,
  },
  proof_jtis: {
    select: true,
    insert: ["jti", "expires_at"],
    delete: true,
  },
} as const satisfies Record<string, TablePrivileges>;

/** Sequences the role draws ids from: USAGE (nextval) only, so it can neither read nor reset them. */
export const appSequenceUsage = ["audit_events_id_seq", "account_erasures_id_seq"] as const;

/** Tables of the schema the role gets nothing on. */
export const appRoleNoAccess = ["schema_migrations"] as const;
