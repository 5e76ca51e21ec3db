import { revokeSessions } from "./proofs.ts";
import { type Queryable, run } from "./query.ts";

/** What one account erasure removed from the database. */
export interface AccountErasure {
  /** Records deleted (with their images' rows, by cascade). */
  readonly records: number;
  /** Image rows deleted; the ready ones' objects are now queued in `image_object_deletions`. */
  readonly images: number;
  readonly idempotencyKeys: number;
  /** Audit events whose owner, actor, record and request ids were replaced or cleared. */
  readonly auditEvents: number;
}

/**
 * Erases everything the database holds of one owner. Run it inside one transaction (`withTransaction`)
 * with nothing else: the records (their images follow by cascade, and a trigger queues each stored
 * image object for deletion), the idempotency keys; the proof-of-possession session bindings become
 * revocation markers (`proofs.revokeSessions`); then one `account_erasures` row whose trigger
 * makes the owner's audit trail non-identifying (owner and actor become `erased`, record and request
 * ids are cleared; action and time stay). Running it again after it committed changes nothing but
 * revoking sessions bound since (a retry's fresh sign-in) and writes no second erasure row.
 *
 * @example
 * const erased = await withTransaction(pool, (tx) => account.erase(tx, caller.sub));
 */
export async function erase(tx: Queryable, ownerId: string): Promise<AccountErasure> {
  const [imageCount] = await run<{ n: number }>(tx, {
    name: "veil.account.countImages",
    text: "SELECT count(*)::int AS n FROM images WHERE owner_id = $1",
    values: [ownerId],
  });
  const deleted = await run<{ id: string }>(tx, {
    name: "veil.account.deleteRecords",
    text: "DELETE FROM records WHERE owner_id = $1 RETURNING id",
    values: [ownerId],
  });
  const keys = await run<{ key: string }>(tx, {
    name: "veil.account.deleteIdempotencyKeys",
    text: "DELETE FROM idempotency_keys WHERE owner_id = $1 RETURNING key",
    values: [ownerId],
  });
  // The owner's sign-in sessions become revocation markers: a token issued before the erasure stays
  // valid offline for its lifetime, and must not bind a fresh key and write under the erased owner.
  await revokeSessions(tx, ownerId);
  const [trail] = await run<{ left: boolean }>(tx, {
    name: "veil.account.trailLeft",
    text: "SELECT EXISTS (SELECT 1 FROM audit_events WHERE owner_id = $1) AS left",
    values: [ownerId],
  });
  const images = imageCount?.n ?? 0;
  // Sessions alone do not make an erasure: a retry after a fresh sign-in finds its own session, and the
  // first run already wrote the row.
  if (deleted.length === 0 && images === 0 && keys.length === 0 && !trail?.left) {
    return { records: 0, images: 0, idempotencyKeys: 0, auditEvents: 0 };
  }
  const [row] = await run<{ audit_events: number }>(tx, {
    name: "veil.account.recordErasure",
    text: `INSERT INTO account_erasures (owner_id, records, images) VALUES ($1, $2, $3)
           RETURNING audit_events`,
    values: [ownerId, deleted.length, images],
  });
  return {
    records: deleted.length,
    images,
    idempotencyKeys: keys.length,
    auditEvents: row?.audit_events ?? 0,
  };
}
