import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as imageDeletions from "./image-deletions.ts";
import * as images from "./images.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

describe("image object deletions", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  /** A record with one image of each status; returns their ids. */
  async function recordWithImages(owner: string) {
    const recordId = records.newRecordId();
    await records.insert(db.pool, {
      id: recordId,
      ownerId: owner,
      category: "general",
      ciphertext: Buffer.from([1]),
    });
    const add = () =>
      images.createPending(db.pool, {
        id: randomUUID(),
        ownerId: owner,
        recordId,
        contentType: "image/jpeg",
        declaredSize: 10,
        uploadExpiresAt: new Date(Date.now() + 300_000),
      });
    const [ready, pending, rejected] = [await add(), await add(), await add()];
    await images.markReady(db.pool, {
      id: ready.id,
      ownerId: owner,
      contentType: "image/jpeg",
      size: 9,
      objectVersion: "v1",
    });
    await images.markRejected(db.pool, { id: rejected.id, ownerId: owner, reason: "corrupt" });
    return { recordId, ready: ready.id, pending: pending.id, rejected: rejected.id };
  }

  const queued = async () =>
    (await db.pool.query<{ image_id: string }>("SELECT image_id FROM image_object_deletions")).rows.map(
      (r) => r.image_id,
    );

  it("erasing a record queues the object of each ready image, in the same transaction", async () => {
    const owner = newOwner();
    const r = await recordWithImages(owner);
    await expect(
      withTransaction(db.pool, async (tx) => {
        await records.remove(tx, { id: r.recordId, ownerId: owner });
        throw new Error("rolled back");
      }),
    ).rejects.toThrow("rolled back");
    expect(await queued()).not.toContain(r.ready);
    await records.remove(db.pool, { id: r.recordId, ownerId: owner });
    const now = await queued();
    expect(now).toContain(r.ready);
    expect(now).not.toContain(r.pending);
    expect(now).not.toContain(r.rejected);
    const row = (
      await db.pool.query(
        "SELECT owner_id, record_id, attempts FROM image_object_deletions WHERE image_id = $1",
        [r.ready],
      )
    ).rows[0];
    expect(row).toEqual({ owner_id: owner, record_id: r.recordId, attempts: 0 });
  });

  it("claims oldest first, skips what another transaction holds, counts failures, removes completed ones", async () => {
    const owner = newOwner();
    const a = await recordWithImages(owner);
    const b = await recordWithImages(owner);
    await records.remove(db.pool, { id: a.recordId, ownerId: owner });
    await records.remove(db.pool, { id: b.recordId, ownerId: owner });
    const other = await db.pool.connect();
    try {
      await withTransaction(db.pool, async (tx) => {
        const first = await imageDeletions.claim(tx, 1000);
        const mine = first.filter((d) => d.ownerId === owner).map((d) => d.imageId);
        expect(mine.sort()).toEqual([a.ready, b.ready].sort());
        const times = first.map((d) => d.queuedAt.getTime());
        expect(times).toEqual([...times].sort((x, y) => x - y));
        // Held by this transaction: a concurrent claim gets none of them.
        await other.query("BEGIN");
        const second = await imageDeletions.claim(other, 1000);
        expect(second.map((d) => d.imageId)).not.toContain(a.ready);
        await other.query("ROLLBACK");
        await imageDeletions.recordFailure(tx, [b.ready]);
        expect(await imageDeletions.complete(tx, [a.ready])).toBe(1);
      });
    } finally {
      other.release();
    }
    const left = await queued();
    expect(left).not.toContain(a.ready);
    expect(left).toContain(b.ready);
    const attempts = await db.pool.query("SELECT attempts FROM image_object_deletions WHERE image_id = $1", [
      b.ready,
    ]);
    expect(attempts.rows[0].attempts).toBe(1);
    await expect(imageDeletions.claim(db.pool, 0)).rejects.toBeInstanceOf(RangeError);
    expect(await imageDeletions.complete(db.pool, [])).toBe(0);
  });
});
