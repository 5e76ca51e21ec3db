import { type Queryable, run } from "./query.ts";

/**
 * A stored image object to delete from the images bucket: its image row is gone (the record was
 * erased), the object is still current. Queued by a trigger (migration 3) in the erasing transaction.
 */
export interface ImageObjectDeletion {
  imageId: string;
  ownerId: string;
  recordId: string;
  queuedAt: Date;
  /** Failed delete attempts so far. */
  attempts: number;
}

interface Row {
  image_id: string;
  owner_id: string;
  record_id: string;
  queued_at: Date;
  attempts: number;
}

const toDeletion = (r: Row): ImageObjectDeletion => ({
  imageId: r.image_id,
  ownerId: r.owner_id,
  recordId: r.record_id,
  queuedAt: r.queued_at,
  attempts: r.attempts,
});

/**
 * Claims up to `limit` queued deletions, oldest first, for the rest of the transaction `tx`: rows
 * another cleanup holds are skipped, so concurrent runs never work on the same object.
 */
export async function claim(tx: Queryable, limit: number): Promise<ImageObjectDeletion[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError("limit must be 1..1000");
  const rows = await run<Row>(tx, {
    name: "veil.imageDeletions.claim",
    text: `SELECT image_id, owner_id, record_id, queued_at, attempts FROM image_object_deletions
           ORDER BY queued_at, image_id LIMIT $1 FOR UPDATE SKIP LOCKED`,
    values: [limit],
  });
  return rows.map(toDeletion);
}

/**
 * Claims every queued deletion of one owner (an account erasure deletes them at once), waiting for
 * rows a running cleanup holds rather than skipping them: once it has committed they are gone, so
 * nothing of the owner is left behind unseen.
 */
export async function claimForOwner(
  tx: Queryable,
  ownerId: string,
  limit = 1000,
): Promise<ImageObjectDeletion[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError("limit must be 1..1000");
  const rows = await run<Row>(tx, {
    name: "veil.imageDeletions.claimForOwner",
    text: `SELECT image_id, owner_id, record_id, queued_at, attempts FROM image_object_deletions
           WHERE owner_id = $1 ORDER BY queued_at, image_id LIMIT $2 FOR UPDATE`,
    values: [ownerId, limit],
  });
  return rows.map(toDeletion);
}

/** Removes deletions from the queue once S3 has confirmed them; returns how many were removed. */
export async function complete(db: Queryable, imageIds: readonly string[]): Promise<number> {
  if (imageIds.length === 0) return 0;
  const rows = await run<{ image_id: string }>(db, {
    name: "veil.imageDeletions.complete",
    text: "DELETE FROM image_object_deletions WHERE image_id = ANY($1::uuid[]) RETURNING image_id",
    values: [[...imageIds]],
  });
  return rows.length;
}

/** Counts a failed attempt on each of `imageIds`; they stay queued for the next run. */
export async function recordFailure(db: Queryable, imageIds: readonly string[]): Promise<void> {
  if (imageIds.length === 0) return;
  await run(db, {
    name: "veil.imageDeletions.recordFailure",
    text: "UPDATE image_object_deletions SET attempts = attempts + 1 WHERE image_id = ANY($1::uuid[])",
    values: [[...imageIds]],
  });
}
