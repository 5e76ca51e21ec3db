import { randomUUID } from "node:crypto";
import { isCanonicalId } from "@veil/core";
import { InvalidCursorError, NotFoundError, VersionConflictError } from "./errors.ts";
import { type Queryable, run } from "./query.ts";

/** A stored record: metadata in clear, the sensitive fields only as one ciphertext. */
export interface RecordRow {
  id: string;
  ownerId: string;
  category: string;
  /** The envelope-encrypted sensitive fields (an Encryption SDK message). */
  ciphertext: Buffer;
  createdAt: Date;
  updatedAt: Date;
  /** Starts at 1, +1 on every update; pass it back as `expectedVersion`. */
  version: number;
}

interface Row {
  id: string;
  owner_id: string;
  category: string;
  ciphertext: Buffer;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const columns = "id, owner_id, category, ciphertext, created_at, updated_at, version";

function toMetadata(r: Omit<Row, "ciphertext">): Omit<RecordRow, "ciphertext"> {
  return {
    id: r.id,
    ownerId: r.owner_id,
    category: r.category,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

function toRecord(r: Row): RecordRow {
  return { ...toMetadata(r), ciphertext: r.ciphertext };
}

// Ids match in their one spelling only (`isCanonicalId`: lower case, as PostgreSQL prints a uuid). The
// uuid column would find the row for any spelling, and the caller would then hold a second name for it.

/** A new record id. Chosen by the caller before encrypting, so it can be bound into the encryption context. */
export function newRecordId(): string {
  return randomUUID();
}

/** Inserts a record. A duplicate `id` throws `ConflictError`. */
export async function insert(
  db: Queryable,
  record: { id: string; ownerId: string; category: string; ciphertext: Uint8Array },
): Promise<RecordRow> {
  const rows = await run<Row>(db, {
    name: "veil.records.insert",
    text: `INSERT INTO records (id, owner_id, category, ciphertext) VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
    values: [record.id, record.ownerId, record.category, Buffer.from(record.ciphertext)],
  });
  return toRecord(rows[0] as Row);
}

/** The owner's record, or `NotFoundError` (also for another owner's id, or an id not in its one spelling). */
export async function get(db: Queryable, ownerId: string, id: string): Promise<RecordRow> {
  if (!isCanonicalId(id)) throw new NotFoundError("record");
  const rows = await run<Row>(db, {
    name: "veil.records.get",
    text: `SELECT ${columns} FROM records WHERE id = $1 AND owner_id = $2`,
    values: [id, ownerId],
  });
  if (!rows[0]) throw new NotFoundError("record");
  return toRecord(rows[0]);
}

/** Options of `list` and `listMetadata`. */
export interface ListOptions {
  /** Page size, 1..100; default 20. */
  limit?: number;
  /** `nextCursor` of the previous page. Any other string throws `InvalidCursorError`. */
  cursor?: string;
}

/** A record without its ciphertext: what a metadata-only list needs. */
export type RecordMetadataRow = Omit<RecordRow, "ciphertext">;

/** One page of a list; `nextCursor` is absent on the last page. */
export interface RecordPage<T> {
  items: T[];
  nextCursor?: string;
}

// A cursor is the base64url of `["<created_at ISO>", "<id>"]`: about 90 characters.
const maxCursorLength = 200;

function encodeCursor(r: RecordMetadataRow): string {
  return Buffer.from(JSON.stringify([r.createdAt.toISOString(), r.id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  if (cursor.length > 0 && cursor.length <= maxCursorLength && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
      if (
        Array.isArray(v) &&
        v.length === 2 &&
        typeof v[0] === "string" &&
        !Number.isNaN(Date.parse(v[0])) &&
        typeof v[1] === "string" &&
        isCanonicalId(v[1])
      ) {
        return [new Date(v[0]).toISOString(), v[1]];
      }
    } catch {
      // fall through: not a cursor of ours
    }
  }
  throw new InvalidCursorError();
}

/**
 * One keyset page, newest first: `(created_at, id) < cursor` on the index
 * `(owner_id, created_at DESC, id DESC)`, so every page costs the same however deep it is, and pages
 * stay stable while records are added.
 */
async function page<T extends RecordMetadataRow>(
  db: Queryable,
  ownerId: string,
  options: ListOptions,
  select: { name: string; columns: string; map: (r: Row) => T },
): Promise<RecordPage<T>> {
  const limit = Math.min(100, Math.max(1, Math.trunc(options.limit ?? 20)));
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
  const rows = after
    ? await run<Row>(db, {
        name: `${select.name}After`,
        text: `SELECT ${select.columns} FROM records
               WHERE owner_id = $1 AND (created_at, id) < ($2::timestamptz, $3::uuid)
               ORDER BY created_at DESC, id DESC LIMIT $4`,
        values: [ownerId, after[0], after[1], limit + 1],
      })
    : await run<Row>(db, {
        name: select.name,
        text: `SELECT ${select.columns} FROM records WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
        values: [ownerId, limit + 1],
      });
  const items = rows.slice(0, limit).map(select.map);
  const last = items[items.length - 1];
  return rows.length > limit && last ? { items, nextCursor: encodeCursor(last) } : { items };
}

/**
 * The owner's records with their ciphertexts, newest first, one page at a time (keyset pagination on
 * `created_at, id`). A cursor this package did not issue throws `InvalidCursorError`.
 *
 * @example
 * const first = await records.list(pool, ownerId, { limit: 50 });
 * const next = first.nextCursor ? await records.list(pool, ownerId, { limit: 50, cursor: first.nextCursor }) : undefined;
 */
export function list(
  db: Queryable,
  ownerId: string,
  options: ListOptions = {},
): Promise<RecordPage<RecordRow>> {
  return page(db, ownerId, options, { name: "veil.records.list", columns, map: toRecord });
}

const metadataColumns = "id, owner_id, category, created_at, updated_at, version";

/**
 * Like `list`, without the ciphertexts: for lists that show metadata only (nothing to decrypt, a
 * fraction of the bytes). Pages and cursors are the same as `list`'s.
 *
 * @example
 * const { items, nextCursor } = await records.listMetadata(pool, ownerId, { limit: 50 });
 */
export function listMetadata(
  db: Queryable,
  ownerId: string,
  options: ListOptions = {},
): Promise<RecordPage<RecordMetadataRow>> {
  return page(db, ownerId, options, {
    name: "veil.records.listMetadata",
    columns: metadataColumns,
    map: toMetadata,
  });
}

/** Why a conditional write matched no row: the record is absent (for this owner) or has another version. */
async function explainMiss(
  db: Queryable,
  ownerId: string,
  id: string,
  expectedVersion: number,
): Promise<never> {
  const rows = await run<{ version: number }>(db, {
    name: "veil.records.version",
    text: "SELECT version FROM records WHERE id = $1 AND owner_id = $2",
    values: [id, ownerId],
  });
  if (!rows[0]) throw new NotFoundError("record");
  throw new VersionConflictError(expectedVersion, rows[0].version);
}

/**
 * Replaces a record's category and ciphertext if it still has `expectedVersion` (optimistic
 * concurrency); the version goes up by one. Throws `NotFoundError` or `VersionConflictError`.
 */
export async function update(
  db: Queryable,
  change: { id: string; ownerId: string; expectedVersion: number; category: string; ciphertext: Uint8Array },
): Promise<RecordRow> {
  if (!isCanonicalId(change.id)) throw new NotFoundError("record");
  const rows = await run<Row>(db, {
    name: "veil.records.update",
    text: `UPDATE records SET category = $4, ciphertext = $5, version = version + 1,
             updated_at = date_trunc('milliseconds', now())
           WHERE id = $1 AND owner_id = $2 AND version = $3 RETURNING ${columns}`,
    values: [
      change.id,
      change.ownerId,
      change.expectedVersion,
      change.category,
      Buffer.from(change.ciphertext),
    ],
  });
  if (!rows[0]) return explainMiss(db, change.ownerId, change.id, change.expectedVersion);
  return toRecord(rows[0]);
}

/**
 * Deletes the owner's record (for real: erasure means erasure), optionally only at `expectedVersion`.
 * Throws `NotFoundError` or `VersionConflictError`.
 */
export async function remove(
  db: Queryable,
  target: { id: string; ownerId: string; expectedVersion?: number },
): Promise<void> {
  if (!isCanonicalId(target.id)) throw new NotFoundError("record");
  const rows = await run<{ id: string }>(db, {
    name: "veil.records.remove",
    text: "DELETE FROM records WHERE id = $1 AND owner_id = $2 AND ($3::integer IS NULL OR version = $3) RETURNING id",
    values: [target.id, target.ownerId, target.expectedVersion ?? null],
  });
  if (!rows[0]) await explainMiss(db, target.ownerId, target.id, target.expectedVersion ?? 0);
}
