import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as proofs from "./proofs.ts";
import { newOwner, openTestDb, type TestDb } from "./test-support.ts";

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
      binding: { ownerId: first.ownerId, jkt: jkt("a") },
    });
    const same = await proofs.recordUse(db.pool, { ...first, jti: randomUUID() });
    expect(same).toEqual({ fresh: true, binding: { ownerId: first.ownerId, jkt: jkt("a") } });
    // Another key for the same session does not rebind it: the caller sees the first key and refuses.
    const other = await proofs.recordUse(db.pool, { ...first, jti: randomUUID(), jkt: jkt("b") });
    expect(other).toEqual({ fresh: true, binding: { ownerId: first.ownerId, jkt: jkt("a") } });
  });

  it("refuses a jti seen before, whatever session or key it comes with, and binds nothing then", async () => {
    const first = use();
    await proofs.recordUse(db.pool, first);
    expect((await proofs.recordUse(db.pool, first)).fresh).toBe(false);
    const elsewhere = use({ jti: first.jti, jkt: jkt("c") });
    expect(await proofs.recordUse(db.pool, elsewhere)).toEqual({ fresh: false, binding: null });
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

  it("keeps only ids and thumbprints, and refuses a malformed thumbprint", async () => {
    await expect(proofs.recordUse(db.pool, use({ jkt: "not a thumbprint" }))).rejects.toThrow();
    const { rows } = await db.pool.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_name IN ('proof_sessions', 'proof_jtis') ORDER BY table_name, ordinal_position`,
    );
    expect(rows.map((r) => `${r.table_name}.${r.column_name}`)).toEqual([
      "proof_jtis.jti",
      "proof_jtis.expires_at",
      "proof_sessions.origin_jti",
      "proof_sessions.owner_id",
      "proof_sessions.jkt",
      "proof_sessions.created_at",
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
    const sessions = await db.pool.query("SELECT count(*)::int AS n FROM proof_sessions");
    expect(sessions.rows[0].n).toBe(0);
  });
});
