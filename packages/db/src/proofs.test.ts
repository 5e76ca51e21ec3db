import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as proofs from "./proofs.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";

const jkt = (c: string) => c.repeat(43);

describe("proofs", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  const use = (over: Partial<proofs.ProofUse> = {}): proofs.ProofUse => ({
    jti: randomUUID(),
    originJti: randomUUID(),
    ownerId: newOwner(),
    jkt: jkt("a"),
    rememberSeconds: 120,
    ...over,
  });

  it("binds a session to the key of its first proof and returns that binding to every later one", async () => {
    const first = use();
    expect(await proofs.recordUse(db.pool, first)).toEqual({
      fresh: true,
      revoked: false,
      binding: { ownerId: first.ownerId, jkt: jkt("a") },
    });
    const same = await proofs.recordUse(db.pool, { ...first, jti: randomUUID() });
    expect(same).toEqual({ fresh: true, revoked: false, binding: { ownerId: first.ownerId, jkt: jkt("a") } });
    // Another key for the same session does not rebind it: the caller sees the first key and refuses.
    const other = await proofs.recordUse(db.pool, { ...first, jti: randomUUID(), jkt: jkt("b") });
    expect(other).toEqual({
      fresh: true,
      revoked: false,
      binding: { ownerId: first.ownerId, jkt: jkt("a") },
    });
  });

  it("refuses a jti seen before, whatever session or key it comes with, and binds nothing then", async () => {
    const first = use();
    await proofs.recordUse(db.pool, first);
    expect((await proofs.recordUse(db.pool, first)).fresh).toBe(false);
    const elsewhere = use({ jti: first.jti, jkt: jkt("c") });
    expect(await proofs.recordUse(db.pool, elsewhere)).toEqual({
      fresh: false,
      revoked: false,
      binding: null,
    });
    const { rows } = await db.pool.query("SELECT 1 FROM proof_sessions WHERE origin_jti = $1", [
      elsewhere.originJti,
    ]);
    expect(rows).toHaveLength(0);
  });

  it("lets exactly one of many concurrent uses of one jti through", async () => {
    const first = use();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => proofs.recordUse(db.pool, { ...first })),
    );
    expect(results.filter((r) => r.fresh)).toHaveLength(1);
  });

  it("concurrent first uses of one session with different keys end with one binding", async () => {
    const originJti = randomUUID();
    const ownerId = newOwner();
    const results = await Promise.all(
      ["d", "e", "f", "g"].map((c) => proofs.recordUse(db.pool, use({ originJti, ownerId, jkt: jkt(c) }))),
    );
    const bound = results.flatMap((r) => (r.binding ? [r.binding.jkt] : []));
    expect(new Set(bound).size).toBe(1);
  });

  it("concurrent first uses of one session with one key all see the binding (none is refused)", async () => {
    for (let session = 0; session < 10; session++) {
      const originJti = randomUUID();
      const ownerId = newOwner();
      const key = jkt("h");
      const results = await Promise.all(
        Array.from({ length: 8 }, () => proofs.recordUse(db.pool, use({ originJti, ownerId, jkt: key }))),
      );
      expect(results.map((r) => r.binding?.jkt)).toEqual(Array(8).fill(key));
    }
  });

  it("keeps only ids, thumbprints and hashes, and refuses a malformed thumbprint", async () => {
    await expect(proofs.recordUse(db.pool, use({ jkt: "not a thumbprint" }))).rejects.toThrow();
    const { rows } = await db.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_name IN ('proof_sessions', 'proof_jtis', 'erased_subjects')
       ORDER BY table_name, ordinal_position`,
    );
    expect(rows.map((r) => `${r.table_name}.${r.column_name}`)).toEqual([
      "erased_subjects.subject",
      "erased_subjects.erased_at",
      "proof_jtis.jti",
      "proof_jtis.expires_at",
      "proof_sessions.origin_jti",
      "proof_sessions.owner_id",
      "proof_sessions.jkt",
      "proof_sessions.created_at",
      "proof_sessions.revoked_at",
    ]);
  });

  it("purges expired jtis (a purged jti is no replay any more) and old sessions when asked", async () => {
    const gone = use({ rememberSeconds: 0 });
    const kept = use();
    await proofs.recordUse(db.pool, gone);
    await proofs.recordUse(db.pool, kept);
    await new Promise((r) => setTimeout(r, 20));
    expect(await proofs.purgeExpired(db.pool)).toBeGreaterThanOrEqual(1);
    const left = await db.pool.query("SELECT jti FROM proof_jtis WHERE jti = ANY($1)", [
      [gone.jti, kept.jti],
    ]);
    expect(left.rows.map((r) => r.jti)).toEqual([kept.jti]);
    expect((await proofs.recordUse(db.pool, kept)).fresh).toBe(false);

    const purged = await proofs.purgeExpired(db.pool, { sessionsBefore: new Date(Date.now() + 60_000) });
    expect(purged).toBeGreaterThanOrEqual(2);
    const sessions = await db.pool.query(
      "SELECT count(*)::int AS n FROM proof_sessions WHERE revoked_at IS NULL",
    );
    expect(sessions.rows[0].n).toBe(0);
  });

  describe("revocation by an erasure", () => {
    it("turns the owner's sessions into markers that name no one, and leaves others alone", async () => {
      const mine = use();
      const second = use({ ownerId: mine.ownerId, jkt: jkt("b") });
      const theirs = use();
      for (const u of [mine, second, theirs]) await proofs.recordUse(db.pool, u);

      expect(await proofs.revokeSessions(db.pool, mine.ownerId)).toBe(2);
      const { rows } = await db.pool.query(
        "SELECT * FROM proof_sessions WHERE origin_jti = ANY($1) ORDER BY revoked_at NULLS LAST",
        [[mine.originJti, second.originJti, theirs.originJti]],
      );
      const markers = rows.filter((r) => r.revoked_at !== null);
      expect(markers.map((r) => r.origin_jti).sort()).toEqual([mine.originJti, second.originJti].sort());
      for (const marker of markers) {
        expect(marker).toMatchObject({ owner_id: proofs.erasedOwner, jkt: null });
        expect(marker.revoked_at).toBeInstanceOf(Date);
        // Nothing of the owner or the keys in any column of the marker.
        const text = JSON.stringify(marker);
        expect(text).not.toContain(mine.ownerId);
        expect(text).not.toContain(jkt("a"));
        expect(text).not.toContain(jkt("b"));
      }
      expect(rows.find((r) => r.origin_jti === theirs.originJti)).toMatchObject({
        owner_id: theirs.ownerId,
        jkt: jkt("a"),
        revoked_at: null,
      });
      // A second erasure of the same owner finds nothing left to revoke.
      expect(await proofs.revokeSessions(db.pool, mine.ownerId)).toBe(0);
    });

    it("refuses every later proof of a revoked session, with the old key or a fresh one, and binds nothing", async () => {
      const first = use();
      await proofs.recordUse(db.pool, first);
      await proofs.revokeSessions(db.pool, first.ownerId);
      for (const key of [jkt("a"), jkt("z")]) {
        expect(await proofs.recordUse(db.pool, { ...first, jti: randomUUID(), jkt: key })).toEqual({
          fresh: true,
          revoked: true,
          binding: null,
        });
      }
      const { rows } = await db.pool.query("SELECT owner_id, jkt FROM proof_sessions WHERE origin_jti = $1", [
        first.originJti,
      ]);
      expect(rows).toEqual([{ owner_id: proofs.erasedOwner, jkt: null }]);
      // The marker cannot be made to bind again: the schema allows a marker only in its anonymous shape.
      await expect(
        db.pool.query("UPDATE proof_sessions SET jkt = $2 WHERE origin_jti = $1", [
          first.originJti,
          jkt("a"),
        ]),
      ).rejects.toThrow();
    });

    it("refuses a session of an erased owner that never made a request, keeping only a hash of the owner", async () => {
      const owner = newOwner();
      await proofs.revokeSubject(db.pool, owner);
      await proofs.revokeSubject(db.pool, owner);
      const unbound = use({ ownerId: owner });
      expect(await proofs.recordUse(db.pool, unbound)).toEqual({ fresh: true, revoked: true, binding: null });
      const sessions = await db.pool.query("SELECT 1 FROM proof_sessions WHERE origin_jti = $1", [
        unbound.originJti,
      ]);
      expect(sessions.rows).toHaveLength(0);
      const { rows } = await db.pool.query("SELECT subject, erased_at FROM erased_subjects");
      expect(rows.length).toBeGreaterThanOrEqual(1);
      for (const row of rows) {
        expect(row.subject).toHaveLength(32);
        expect(Buffer.from(row.subject).toString("latin1")).not.toContain(owner);
      }
      // Another owner is not affected.
      expect((await proofs.recordUse(db.pool, use())).revoked).toBe(false);
    });

    it("purges markers revoked before the given time, and only with revokedBefore", async () => {
      const session = use();
      await proofs.recordUse(db.pool, session);
      await proofs.revokeSessions(db.pool, session.ownerId);
      await proofs.revokeSubject(db.pool, session.ownerId);
      const markers = async () => {
        const { rows } = await db.pool.query(
          `SELECT (SELECT count(*)::int FROM proof_sessions WHERE origin_jti = $1) AS sessions,
                  (SELECT count(*)::int FROM erased_subjects) AS subjects`,
          [session.originJti],
        );
        return rows[0];
      };
      // Old live sessions go; a marker made now stays (its tokens may still be valid).
      await proofs.purgeExpired(db.pool, { sessionsBefore: new Date(Date.now() + 60_000) });
      await proofs.purgeExpired(db.pool, { revokedBefore: new Date(Date.now() - 60_000) });
      expect((await markers()).sessions).toBe(1);
      expect((await markers()).subjects).toBeGreaterThanOrEqual(1);
      expect((await proofs.recordUse(db.pool, { ...session, jti: randomUUID() })).revoked).toBe(true);

      expect(
        await proofs.purgeExpired(db.pool, { revokedBefore: new Date(Date.now() + 60_000) }),
      ).toBeGreaterThanOrEqual(2);
      expect(await markers()).toEqual({ sessions: 0, subjects: 0 });
    });
  });
});
