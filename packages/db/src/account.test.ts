import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as account from "./account.ts";
import * as audit from "./audit.ts";
import * as idempotency from "./idempotency.ts";
import * as imageDeletions from "./image-deletions.ts";
import * as images from "./images.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

describe("account erasure", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  /** An owner with two records, a ready and a pending image, an idempotency key and an audit trail. */
  async function populated(owner: string) {
    const ids = [records.newRecordId(), records.newRecordId()];
    for (const id of ids) {
      await records.insert(db.pool, {
        id,
        ownerId: owner,
        category: "general",
        ciphertext: Buffer.from([1]),
      });
      await audit.append(db.pool, {
        ownerId: owner,
        actor: owner,
        action: "create",
        recordId: id,
        requestId: "rq",
      });
    }
    const add = () =>
      images.createPending(db.pool, {
        id: randomUUID(),
        ownerId: owner,
        recordId: ids[0] as string,
        contentType: "image/jpeg",
        declaredSize: 10,
        uploadExpiresAt: new Date(Date.now() + 300_000),
      });
    const ready = await add();
    await add();
    await images.markReady(db.pool, {
      id: ready.id,
      ownerId: owner,
      contentType: "image/jpeg",
      size: 9,
      objectVersion: "v1",
    });
    await idempotency.claim(db.pool, { ownerId: owner, key: "key-1", requestHash: "h" });
    await db.pool.query("INSERT INTO proof_sessions (origin_jti, owner_id, jkt) VALUES ($1, $2, $3)", [
      randomUUID(),
      owner,
      "k".repeat(43),
    ]);
    await audit.appendMany(
      db.pool,
      ids.map((recordId) => ({ ownerId: owner, actor: owner, action: "export", recordId, requestId: "rq" })),
    );
    return { ids, ready: ready.id };
  }

  const count = async (sql: string, values: unknown[]) =>
    (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, values)).rows[0]?.n;

  it("erases records, images, keys, and leaves only a non-identifying trail and the queued objects", async () => {
    const owner = newOwner();
    const other = newOwner();
    const mine = await populated(owner);
    const theirs = await populated(other);

    const erased = await withTransaction(db.pool, (tx) => account.erase(tx, owner));
    expect(erased).toEqual({ records: 2, images: 2, idempotencyKeys: 1, auditEvents: 4 });

    expect(await count("records WHERE owner_id = $1", [owner])).toBe(0);
    expect(await count("images WHERE owner_id = $1", [owner])).toBe(0);
    expect(await count("idempotency_keys WHERE owner_id = $1", [owner])).toBe(0);
    expect(await count("proof_sessions WHERE owner_id = $1", [owner])).toBe(0);
    expect(await count("proof_sessions WHERE owner_id = $1", [other])).toBe(1);
    // The owner's session stays as an anonymous revocation marker (proofs.test.ts shows its use).
    expect(await count("proof_sessions WHERE revoked_at IS NOT NULL AND owner_id = $1", ["erased"])).toBe(1);
    expect(await count("audit_events WHERE owner_id = $1 OR actor = $1", [owner])).toBe(0);
    expect(await count("audit_events WHERE record_id = ANY($1::uuid[])", [mine.ids])).toBe(0);
    // The trail keeps what happened and when, under no name.
    const { rows } = await db.pool.query(
      "SELECT action, owner_id, actor, record_id, request_id FROM audit_events WHERE owner_id = 'erased' ORDER BY id DESC LIMIT 4",
    );
    expect(rows.map((r) => r.action).sort()).toEqual(["create", "create", "export", "export"]);
    expect(rows.every((r) => r.actor === "erased" && r.record_id === null && r.request_id === null)).toBe(
      true,
    );
    // One erasure row: counts and time, no owner.
    const summary = await db.pool.query("SELECT * FROM account_erasures ORDER BY id DESC LIMIT 1");
    expect(summary.rows[0]).toMatchObject({ owner_id: null, records: 2, images: 2, audit_events: 4 });
    // The ready image's object waits for its S3 delete; nothing of the pending one (it has no object).
    const queued = await withTransaction(db.pool, (tx) => imageDeletions.claimForOwner(tx, owner));
    expect(queued.map((q) => q.imageId)).toEqual([mine.ready]);

    // Another owner is untouched.
    expect(await count("records WHERE owner_id = $1", [other])).toBe(2);
    expect(await count("audit_events WHERE owner_id = $1", [other])).toBe(4);
    expect(await count("image_object_deletions WHERE image_id = $1", [theirs.ready])).toBe(0);

    // A retry finds nothing and writes no second erasure row.
    const before = await count("account_erasures", []);
    expect(await withTransaction(db.pool, (tx) => account.erase(tx, owner))).toEqual({
      records: 0,
      images: 0,
      idempotencyKeys: 0,
      auditEvents: 0,
    });
    expect(await count("account_erasures", [])).toBe(before);

    // A retry from a fresh sign-in: its own session is revoked, still no second erasure row.
    await db.pool.query("INSERT INTO proof_sessions (origin_jti, owner_id, jkt) VALUES ($1, $2, $3)", [
      randomUUID(),
      owner,
      "k".repeat(43),
    ]);
    expect(await withTransaction(db.pool, (tx) => account.erase(tx, owner))).toEqual({
      records: 0,
      images: 0,
      idempotencyKeys: 0,
      auditEvents: 0,
    });
    expect(await count("proof_sessions WHERE owner_id = $1", [owner])).toBe(0);
    expect(await count("account_erasures", [])).toBe(before);
  });

  it("rolls back whole: a failure after the deletes leaves everything in place", async () => {
    const owner = newOwner();
    await populated(owner);
    await expect(
      withTransaction(db.pool, async (tx) => {
        await account.erase(tx, owner);
        throw new Error("S3 or anything else failed");
      }),
    ).rejects.toThrow("S3 or anything else failed");
    expect(await count("records WHERE owner_id = $1", [owner])).toBe(2);
    expect(await count("audit_events WHERE owner_id = $1", [owner])).toBe(4);
  });

  it("the trail stays append-only: only the erasure trigger may anonymise, and only while records are gone", async () => {
    const owner = newOwner();
    await populated(owner);
    // The schema owner's own UPDATE, even with the setting on, may not change an action.
    await expect(
      withTransaction(db.pool, async (tx) => {
        await tx.query("SELECT set_config('veil.audit_erasure', 'on', true)");
        await tx.query("UPDATE audit_events SET action = 'read' WHERE owner_id = $1", [owner]);
      }),
    ).rejects.toMatchObject({ code: "42501" });
    // Without the setting, not even an anonymising UPDATE.
    await expect(
      db.pool.query("UPDATE audit_events SET owner_id = 'erased' WHERE owner_id = $1", [owner]),
    ).rejects.toMatchObject({ code: "42501" });
    // An erasure row for an owner who still has records is refused.
    await expect(
      db.pool.query("INSERT INTO account_erasures (owner_id, records, images) VALUES ($1, 0, 0)", [owner]),
    ).rejects.toMatchObject({ code: "55006" });
    expect(await count("audit_events WHERE owner_id = $1", [owner])).toBe(4);
  });
});
