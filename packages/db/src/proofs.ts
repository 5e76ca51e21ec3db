/**
 * Proof-of-possession state: the proof ids (`jti`) seen lately, to refuse a replayed proof, the key
 * each sign-in session (the access token's `origin_jti`) is bound to, and what an account erasure
 * revoked (for as long as a token issued before it can be valid). Token ids, key thumbprints and
 * hashes only — nothing an operator could read a record with.
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
  /**
   * True when the session or its owner was erased lately (see `revokeSessions`, `revokeSubject`): the
   * request must be refused, and nothing was bound.
   */
  readonly revoked: boolean;
  /** The session's binding (made now, or before); null when revoked, or when a concurrent first use is not visible yet. */
  readonly binding: { readonly ownerId: string; readonly jkt: string } | null;
}

/** The owner id a revocation marker carries instead of the owner (the audit trail's word after an erasure). */
export const erasedOwner = "erased";

/** The SQL of an erased owner's marker: SHA-256 of a domain tag and the owner id, never the id itself. */
const subjectHash = (param: string) => `sha256(convert_to('veil-erased-subject:' || ${param}, 'UTF8'))`;

/**
 * In ONE statement: remembers the proof's `jti` (refusing one seen before), refuses a session or owner
 * revoked by an erasure, and binds the session to the proof's key on its first use, returning the
 * session's binding either way. The caller accepts the request only when `fresh`, not `revoked`, and
 * the binding names the same owner and key.
 *
 * @example
 * const use = await proofs.recordUse(pool, { jti, originJti, ownerId: sub, jkt, rememberSeconds: 120 });
 * if (!use.fresh || use.revoked || use.binding?.jkt !== jkt || use.binding.ownerId !== sub) throw new UnauthorizedError();
 */
export async function recordUse(db: Queryable, use: ProofUse): Promise<ProofUseResult> {
  const rows = await run<{ fresh: boolean; revoked: boolean; owner_id: string | null; jkt: string | null }>(
    db,
    {
      name: "veil.proofs.recordUse",
      text: `WITH earlier AS (
             SELECT owner_id, jkt, revoked_at FROM proof_sessions WHERE origin_jti = $2
           ), revoked AS (
             SELECT EXISTS (SELECT 1 FROM earlier WHERE revoked_at IS NOT NULL)
                 OR EXISTS (SELECT 1 FROM erased_subjects WHERE subject = ${subjectHash("$3")}) AS yes
           ), seen AS (
             INSERT INTO proof_jtis (jti, expires_at) VALUES ($1, now() + make_interval(secs => $5))
             ON CONFLICT (jti) DO NOTHING RETURNING jti
           ), bound AS (
             INSERT INTO proof_sessions (origin_jti, owner_id, jkt)
             SELECT $2, $3, $4 WHERE EXISTS (SELECT 1 FROM seen) AND NOT (SELECT yes FROM revoked)
             ON CONFLICT (origin_jti) DO NOTHING RETURNING owner_id, jkt
           )
           SELECT EXISTS (SELECT 1 FROM seen) AS fresh,
                  (SELECT yes FROM revoked) AS revoked,
                  COALESCE((SELECT owner_id FROM bound), (SELECT owner_id FROM earlier)) AS owner_id,
                  COALESCE((SELECT jkt FROM bound), (SELECT jkt FROM earlier)) AS jkt`,
      values: [use.jti, use.originJti, use.ownerId, use.jkt, use.rememberSeconds],
    },
  );
  const row = rows[0];
  let revoked = row?.revoked !== false;
  let binding = !revoked && row?.owner_id && row.jkt ? { ownerId: row.owner_id, jkt: row.jkt } : null;
  if (row?.fresh === true && !revoked && binding === null) {
    // A concurrent first use bound the session after this statement's snapshot was taken (the insert
    // above waited for it and did nothing): a new statement sees the committed binding.
    const again = await run<{ owner_id: string; jkt: string | null; revoked_at: Date | null }>(db, {
      name: "veil.proofs.binding",
      text: "SELECT owner_id, jkt, revoked_at FROM proof_sessions WHERE origin_jti = $1",
      values: [use.originJti],
    });
    const found = again[0];
    revoked = found?.revoked_at != null;
    binding = found && !revoked && found.jkt ? { ownerId: found.owner_id, jkt: found.jkt } : null;
  }
  return { fresh: row?.fresh === true, revoked, binding };
}

/**
 * Turns every live session binding of the owner into a revocation marker (owner `erased`, no key,
 * `revoked_at` now) so that no token of those sessions is accepted again, while nothing left names
 * the owner. Part of an account erasure's transaction; returns how many sessions it revoked.
 *
 * @example
 * await withTransaction(pool, (tx) => proofs.revokeSessions(tx, sub));
 */
export async function revokeSessions(db: Queryable, ownerId: string): Promise<number> {
  const rows = await run<{ origin_jti: string }>(db, {
    name: "veil.proofs.revokeSessions",
    text: `UPDATE proof_sessions SET owner_id = $2, jkt = NULL, revoked_at = now()
           WHERE owner_id = $1 AND revoked_at IS NULL RETURNING origin_jti`,
    values: [ownerId, erasedOwner],
  });
  return rows.length;
}

/**
 * Refuses every token of the owner from now on, also those of sessions that never made a request (so
 * have no binding to mark): keeps a hash of the owner id, never the id, until `purgeExpired` drops it.
 * For after the owner's identity is gone (a new sign-in of the same owner is refused too).
 *
 * @example
 * await proofs.revokeSubject(pool, sub);
 */
export async function revokeSubject(db: Queryable, ownerId: string): Promise<void> {
  await run(db, {
    name: "veil.proofs.revokeSubject",
    text: `INSERT INTO erased_subjects (subject) VALUES (${subjectHash("$1")})
           ON CONFLICT (subject) DO UPDATE SET erased_at = now()`,
    values: [ownerId],
  });
}

/**
 * Forgets the proof ids past their time (at most `limit` per call, oldest first); when given, live
 * session bindings made before `sessionsBefore` (older than any refresh token), and revocation markers
 * (sessions and owners) revoked before `revokedBefore` (older than any access token); returns how many rows.
 */
export async function purgeExpired(
  db: Queryable,
  options: { readonly limit?: number; readonly sessionsBefore?: Date; readonly revokedBefore?: Date } = {},
): Promise<number> {
  const jtis = await run<{ jti: string }>(db, {
    name: "veil.proofs.purgeJtis",
    text: `DELETE FROM proof_jtis WHERE jti IN (
             SELECT jti FROM proof_jtis WHERE expires_at < now() ORDER BY expires_at LIMIT $1
           ) RETURNING jti`,
    values: [options.limit ?? 1000],
  });
  let purged = jtis.length;
  if (options.sessionsBefore) {
    const sessions = await run<{ origin_jti: string }>(db, {
      name: "veil.proofs.purgeSessions",
      text: "DELETE FROM proof_sessions WHERE revoked_at IS NULL AND created_at < $1 RETURNING origin_jti",
      values: [options.sessionsBefore],
    });
    purged += sessions.length;
  }
  if (options.revokedBefore) {
    const markers = await run<{ origin_jti: string }>(db, {
      name: "veil.proofs.purgeRevokedSessions",
      text: "DELETE FROM proof_sessions WHERE revoked_at < $1 RETURNING origin_jti",
      values: [options.revokedBefore],
    });
    const subjects = await run<{ erased_at: Date }>(db, {
      name: "veil.proofs.purgeErasedSubjects",
      text: "DELETE FROM erased_subjects WHERE erased_at < $1 RETURNING erased_at",
      values: [options.revokedBefore],
    });
    purged += markers.length + subjects.length;
  }
  return purged;
}
