import { isCanonicalId } from "@veil/core";
import { ConflictError, NotFoundError } from "./errors.ts";
import { type Queryable, run } from "./query.ts";

/** The accepted image types (the CHECK constraint lists the same). */
export type ImageContentType = "image/jpeg" | "image/png" | "image/webp" | "application/pdf";
export type ImageStatus = "pending" | "ready" | "rejected";

/**
 * An image of a record: metadata only. The image itself is an envelope-encrypted object in S3
 * (`objectVersion` of its key) once `ready`; a `rejected` image has a reason and no object.
 */
export interface ImageRow {
  id: string;
  ownerId: string;
  recordId: string;
  contentType: ImageContentType;
  /** Plaintext bytes the uploader announced (the upload URL is signed for the matching length). */
  declaredSize: number;
  /** Plaintext bytes stored, after metadata stripping; null until ready. */
  size: number | null;
  status: ImageStatus;
  reason: string | null;
  objectVersion: string | null;
  uploadExpiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

interface Row {
  id: string;
  owner_id: string;
  record_id: string;
  content_type: ImageContentType;
  declared_size: string;
  size: string | null;
  status: ImageStatus;
  reason: string | null;
  object_version: string | null;
  upload_expires_at: Date;
  created_at: Date;
  updated_at: Date;
}

const columns =
  "id, owner_id, record_id, content_type, declared_size, size, status, reason, object_version, upload_expires_at, created_at, updated_at";

function toImage(r: Row): ImageRow {
  return {
    id: r.id,
    ownerId: r.owner_id,
    recordId: r.record_id,
    contentType: r.content_type,
    declaredSize: Number(r.declared_size),
    size: r.size === null ? null : Number(r.size),
    status: r.status,
    reason: r.reason,
    objectVersion: r.object_version,
    uploadExpiresAt: r.upload_expires_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

// Ids match in their one spelling only (`isCanonicalId`: lower case, as PostgreSQL prints a uuid). The
// uuid column would find the row for any spelling, and the caller would then hold a second name for it.

/**
 * Adds a pending image to the owner's record. The record must exist for this owner (else
 * `NotFoundError("record")`), checked in the same statement.
 */
export async function createPending(
  db: Queryable,
  image: {
    id: string;
    ownerId: string;
    recordId: string;
    contentType: ImageContentType;
    declaredSize: number;
    uploadExpiresAt: Date;
  },
): Promise<ImageRow> {
  if (!isCanonicalId(image.recordId)) throw new NotFoundError("record");
  const rows = await run<Row>(db, {
    name: "veil.images.createPending",
    text: `INSERT INTO images (id, owner_id, record_id, content_type, declared_size, upload_expires_at)
           SELECT $1, $2, r.id, $4, $5, $6 FROM records r WHERE r.id = $3 AND r.owner_id = $2
           RETURNING ${columns}`,
    values: [
      image.id,
      image.ownerId,
      image.recordId,
      image.contentType,
      image.declaredSize,
      image.uploadExpiresAt,
    ],
  });
  if (!rows[0]) throw new NotFoundError("record");
  return toImage(rows[0]);
}

/** The owner's image of a record, or `NotFoundError("image")` (also for another owner's). */
export async function get(db: Queryable, ownerId: string, recordId: string, id: string): Promise<ImageRow> {
  if (!isCanonicalId(id) || !isCanonicalId(recordId)) throw new NotFoundError("image");
  const rows = await run<Row>(db, {
    name: "veil.images.get",
    text: `SELECT ${columns} FROM images WHERE id = $1 AND record_id = $2 AND owner_id = $3`,
    values: [id, recordId, ownerId],
  });
  if (!rows[0]) throw new NotFoundError("image");
  return toImage(rows[0]);
}

/** An image by id alone, whoever owns it: for the ingest (which checks the owner itself) and tools. */
export async function getById(db: Queryable, id: string): Promise<ImageRow | undefined> {
  if (!isCanonicalId(id)) return undefined;
  const rows = await run<Row>(db, {
    name: "veil.images.getById",
    text: `SELECT ${columns} FROM images WHERE id = $1`,
    values: [id],
  });
  return rows[0] ? toImage(rows[0]) : undefined;
}

/** The owner's images of a record, oldest first. */
export async function listForRecord(db: Queryable, ownerId: string, recordId: string): Promise<ImageRow[]> {
  if (!isCanonicalId(recordId)) return [];
  const rows = await run<Row>(db, {
    name: "veil.images.listForRecord",
    text: `SELECT ${columns} FROM images WHERE record_id = $1 AND owner_id = $2 ORDER BY created_at, id LIMIT 200`,
    values: [recordId, ownerId],
  });
  return rows.map(toImage);
}

/** The owner's images of several records (one query for a page of records), oldest first per record. */
export async function listForRecords(
  db: Queryable,
  ownerId: string,
  recordIds: readonly string[],
): Promise<ImageRow[]> {
  const ids = recordIds.filter((id) => isCanonicalId(id));
  if (ids.length === 0) return [];
  const rows = await run<Row>(db, {
    name: "veil.images.listForRecords",
    text: `SELECT ${columns} FROM images WHERE record_id = ANY($1::uuid[]) AND owner_id = $2
           ORDER BY record_id, created_at, id`,
    values: [ids, ownerId],
  });
  return rows.map(toImage);
}

/** The ids of every image of the owner, in any status (what an account erasure must find in S3). */
export async function idsForOwner(
  db: Queryable,
  ownerId: string,
): Promise<{ id: string; recordId: string; status: ImageStatus }[]> {
  const rows = await run<{ id: string; record_id: string; status: ImageStatus }>(db, {
    name: "veil.images.idsForOwner",
    text: "SELECT id, record_id, status FROM images WHERE owner_id = $1 ORDER BY created_at, id",
    values: [ownerId],
  });
  return rows.map((r) => ({ id: r.id, recordId: r.record_id, status: r.status }));
}

/**
 * The oldest `limit` pending images of the owner: the only ones whose upload can still be in the inbox
 * (the ingest drops the upload of every image it decides, ready or rejected).
 *
 * @example
 * const uploads = await images.pendingForOwner(pool, sub, 400);
 */
export async function pendingForOwner(
  db: Queryable,
  ownerId: string,
  limit: number,
): Promise<{ id: string; recordId: string }[]> {
  const rows = await run<{ id: string; record_id: string }>(db, {
    name: "veil.images.pendingForOwner",
    text: `SELECT id, record_id FROM images WHERE owner_id = $1 AND status = 'pending'
           ORDER BY created_at, id LIMIT $2`,
    values: [ownerId, limit],
  });
  return rows.map((r) => ({ id: r.id, recordId: r.record_id }));
}

/**
 * Marks the owner's listed images rejected with one reason, those still pending; resolves with how many
 * changed. A later upload to them is then dropped by the ingest.
 *
 * @example
 * await images.markRejectedMany(pool, sub, ids, "expired");
 */
export async function markRejectedMany(
  db: Queryable,
  ownerId: string,
  ids: readonly string[],
  reason: string,
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await run<{ id: string }>(db, {
    name: "veil.images.markRejectedMany",
    text: `UPDATE images SET status = 'rejected', reason = $3, updated_at = date_trunc('milliseconds', now())
           WHERE owner_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending' RETURNING id`,
    values: [ownerId, ids, reason],
  });
  return rows.length;
}

/**
 * Marks a pending image ready: its object is stored. `ConflictError` when it is no longer pending
 * (a duplicate event, or it was rejected meanwhile); `NotFoundError` when it is gone (record deleted).
 */
export async function markReady(
  db: Queryable,
  image: {
    id: string;
    ownerId: string;
    contentType: ImageContentType;
    size: number;
    objectVersion: string | null;
  },
): Promise<ImageRow> {
  const rows = await run<Row>(db, {
    name: "veil.images.markReady",
    text: `UPDATE images SET status = 'ready', content_type = $3, size = $4, object_version = $5,
             updated_at = date_trunc('milliseconds', now())
           WHERE id = $1 AND owner_id = $2 AND status = 'pending' RETURNING ${columns}`,
    values: [image.id, image.ownerId, image.contentType, image.size, image.objectVersion],
  });
  if (rows[0]) return toImage(rows[0]);
  if (await getById(db, image.id)) throw new ConflictError("image is not pending");
  throw new NotFoundError("image");
}

/** Marks a pending image rejected with a reason code; false when it was not pending (nothing changed). */
export async function markRejected(
  db: Queryable,
  image: { id: string; ownerId: string; reason: string },
): Promise<boolean> {
  const rows = await run<Row>(db, {
    name: "veil.images.markRejected",
    text: `UPDATE images SET status = 'rejected', reason = $3, updated_at = date_trunc('milliseconds', now())
           WHERE id = $1 AND owner_id = $2 AND status = 'pending' RETURNING ${columns}`,
    values: [image.id, image.ownerId, image.reason],
  });
  return rows.length > 0;
}
