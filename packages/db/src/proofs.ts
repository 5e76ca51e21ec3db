/**
 * Proof-of-possession state: the proof ids (`jti`) seen lately, to refuse a replayed proof, and the
 * key each sign-in session (the access token's `origin_jti`) is bound to. Token ids and key
 * thumbprints only — nothing an operator could read a record with.
 */
import { type Queryable, run } from "./query.ts";

/** One request's proof, as the function verified it. */
export interface ProofUse {
  /** The proof's `jti`. */
  readonly jti: string;
  /** The access token's `origin_jti`: one per sign-in, the same across refreshes. */
  readonly originJti: string;
  /** The caller's `sub`. */
  readonly ownerId: string;
  /** RFC 7638 thumbprint of the proof's key. */
  readonly jkt: string;
  /** How long the `jti` is remembered. */
  readonly rememberSeconds: number;
}

/** What `recordUse` found. */
export interface ProofUseResult {
  /** False when the `jti` was seen before (a replay): then nothing was bound. */
  readonly fresh: boolean;
  /** The session's binding (made now, or before); null only when a concurrent first use is not visible yet. */
  readonly binding: { readonly ownerId: string; readonly jkt: string } | null;
}

/**
 * In ONE statement: remembers the proof's `jti` (refusing one seen before) and binds the session to
 * the proof's key on its first use, returning the session's binding either way. The caller accepts the
 * request only when `fresh` and the binding names the same owner and key.
 *
 * @example
 * const use = await proofs.recordUse(pool, { jti, originJti, ownerId: sub, jkt, rememberSeconds: 120 });
 * if (!use.fresh || use.binding?.jkt !== jkt || use.binding.ownerId !== sub) throw new UnauthorizedError();
 */
export async function recordUse(db: Queryable, use: ProofUse): Promise<ProofUseResult> {
  const rows = await run<{ fresh: boolean; owner_id: string | null; jkt: string | null }>(db, {
    name: "veil.proofs.recordUse",
    text: `WITH seen AS (
             INSERT INTO proof_jtis (jti, expires_at) VALUES ($1, now() + make_interval(secs => $5))
             ON CONFLICT (jti) DO NOTHING RETURNING jti
           ), bound AS (
             INSERT INTO proof_sessions (origin_jti, owner_id, jkt)
             SELECT $2, $3, $4 WHERE EXISTS (SELECT 1 FROM seen)
             ON CONFLICT (origin_jti) DO NOTHING RETURNING owner_id, jkt
           ), earlier AS (
             SELECT owner_id, jkt FROM proof_sessions WHERE origin_jti = $2
           )
           SELECT EXISTS (SELECT 1 FROM seen) AS fresh,
                  COALESCE((SELECT owner_id FROM bound), (SELECT owner_id FROM earlier)) AS owner_id,
                  COALESCE((SELECT jkt FROM bound), (SELECT jkt FROM earlier)) AS jkt`,
    values: [use.jti, use.originJti, use.ownerId, use.jkt, use.rememberSeconds],
  });
  const row = rows[0];
  return {
    fresh: row?.fresh === true,
    binding: row?.owner_id && row.jkt ? { ownerId: row.owner_id, jkt: row.jkt } : null,
  };
}

/**
 * Forgets the proof ids past their time (at most `limit` per call, oldest first) and, when given,
 * session bindings made before `sessionsBefore` (older than any refresh token); returns how many rows.
 */
export async function purgeExpired(
  db: Queryable,
  options: { readonly limit?: number; readonly sessionsBefore?: Date } = {},
): Promise<number> {
  const jtis = await run<{ jti: string }>(db, {
    name: "veil.proofs.purgeJtis",
    text: `DELETE FROM proof_jtis WHERE jti IN (
             SELECT jti FROM proof_jtis WHERE expires_at < now() ORDER BY expires_at LIMIT $1
           ) RETURNING jti`,
    values: [options.limit ?? 1000],
  });
  if (!options.sessionsBefore) return jtis.length;
  const sessions = await run<{ origin_jti: string }>(db, {
    name: "veil.proofs.purgeSessions",
    text: "DELETE FROM proof_sessions WHERE created_at < $1 RETURNING origin_jti",
    values: [options.sessionsBefore],
  });
  return jtis.length + sessions.length;
}
