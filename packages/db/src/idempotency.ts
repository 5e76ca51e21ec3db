import { IdempotencyConflictError, IdempotencyInProgressError } from "./errors.ts";
import { type Queryable, run } from "./query.ts";

/** What is kept of a request: enough to replay its result, nothing of its content. */
export interface IdempotencyEntry {
  ownerId: string;
  key: string;
  requestHash: string;
  recordId: string | null;
  /** HTTP status of the first response; null while the first request has not completed. */
  status: number | null;
  createdAt: Date;
}

interface Row {
  owner_id: string;
  key: string;
  request_hash: string;
  record_id: string | null;
  status: number | null;
  created_at: Date;
}

const toEntry = (r: Row): IdempotencyEntry => ({
  ownerId: r.owner_id,
  key: r.key,
  requestHash: r.request_hash,
  recordId: r.record_id,
  status: r.status,
  createdAt: r.created_at,
});

/** Result of `claim`: go ahead, or replay the first result. */
export type ClaimResult =
  | { state: "claimed" }
  | { state: "completed"; recordId: string | null; status: number };

/** The entry for (owner, key), if any. */
export async function find(
  db: Queryable,
  ownerId: string,
  key: string,
): Promise<IdempotencyEntry | undefined> {
  const rows = await run<Row>(db, {
    name: "veil.idempotency.find",
    text: "SELECT owner_id, key, request_hash, record_id, status, created_at FROM idempotency_keys WHERE owner_id = $1 AND key = $2",
    values: [ownerId, key],
  });
  return rows[0] ? toEntry(rows[0]) : undefined;
}

/**
 * Claims an idempotency key for a request. Returns `claimed` for the first request, `completed` with
 * the first result for a retry with the same `requestHash`; throws `IdempotencyConflictError` when the
 * key was used with a different request, `IdempotencyInProgressError` when the first request is still
 * running. Call it, the write and `complete` in ONE transaction: a concurrent retry then waits on the
 * uncommitted claim and sees either the committed result or (after a rollback) a free key.
 *
 * `requestHash` should be a keyed hash (HMAC) of the canonical request: a plain hash of low-entropy
 * plaintext (names, birth dates) could be reversed by guessing.
 */
export async function claim(
  db: Queryable,
  request: { ownerId: string; key: string; requestHash: string },
): Promise<ClaimResult> {
  const inserted = await run<{ key: string }>(db, {
    name: "veil.idempotency.claim",
    text: `INSERT INTO idempotency_keys (owner_id, key, request_hash) VALUES ($1, $2, $3)
           ON CONFLICT (owner_id, key) DO NOTHING RETURNING key`,
    values: [request.ownerId, request.key, request.requestHash],
  });
  if (inserted.length > 0) return { state: "claimed" };
  const existing = await find(db, request.ownerId, request.key);
  // Vanishes only if purged in between; treat as a fresh request that lost a race.
  if (!existing) throw new IdempotencyInProgressError();
  if (existing.requestHash !== request.requestHash) throw new IdempotencyConflictError();
  if (existing.status === null) throw new IdempotencyInProgressError();
  return { state: "completed", recordId: existing.recordId, status: existing.status };
}

/** Records the result of the claimed request, to be replayed to retries. */
export async function complete(
  db: Queryable,
  result: { ownerId: string; key: string; recordId: string | null; status: number },
): Promise<void> {
  await run(db, {
    name: "veil.idempotency.complete",
    text: "UPDATE idempotency_keys SET record_id = $3, status = $4 WHERE owner_id = $1 AND key = $2",
    values: [result.ownerId, result.key, result.recordId, result.status],
  });
}

/** Forgets keys created before `before` (e.g. older than 24 hours); returns how many. */
export async function purgeOlderThan(db: Queryable, before: Date): Promise<number> {
  const rows = await run<{ key: string }>(db, {
    text: "DELETE FROM idempotency_keys WHERE created_at < $1 RETURNING key",
    values: [before],
  });
  return rows.length;
}
