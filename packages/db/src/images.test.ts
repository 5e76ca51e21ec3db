import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as audit from "./audit.ts";
import { ConflictError, NotFoundError, QueryError } from "./errors.ts";
import * as images from "./images.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";

describe("images", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  async function recordOf(owner: string) {
    const id = records.newRecordId();
    await records.insert(db.pool, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([1]) });
    return id;
  }
  const pending = (owner: string, recordId: string, id = randomUUID()) =>
    images.createPending(db.pool, {
      id,
      ownerId: owner,
      recordId,
      contentType: "image/jpeg",
      declaredSize: 1234,
      uploadExpiresAt: new Date(Date.now() + 300_000),
    });

  it("a pending image goes ready once, with its stored size and object version", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const image = await pending(owner, recordId);
    expect(image).toMatchObject({ status: "pending", size: null, reason: null, declaredSize: 1234 });
    const ready = await images.markReady(db.pool, {
      id: image.id,
      ownerId: owner,
      contentType: "image/jpeg",
      size: 1000,
      objectVersion: "v1",
    });
    expect(ready).toMatchObject({ status: "ready", size: 1000, objectVersion: "v1" });
    await expect(
      images.markReady(db.pool, {
        id: image.id,
        ownerId: owner,
        contentType: "image/jpeg",
        size: 1,
        objectVersion: null,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
    expect(await images.markRejected(db.pool, { id: image.id, ownerId: owner, reason: "corrupt" })).toBe(
      false,
    );
    expect((await images.get(db.pool, owner, recordId, image.id)).status).toBe("ready");
  });

  it("is scoped to the owner: another owner can neither add to, read nor list a record's images", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const image = await pending(owner, recordId);
    const other = newOwner();
    await expect(pending(other, recordId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(images.get(db.pool, other, recordId, image.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await images.listForRecord(db.pool, other, recordId)).toEqual([]);
    expect((await images.listForRecord(db.pool, owner, recordId)).map((i) => i.id)).toEqual([image.id]);
    await expect(images.get(db.pool, owner, recordId, "not-a-uuid")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("knows records and images by their one spelling only: upper-case ids find nothing", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const image = await pending(owner, recordId);
    const upper = (id: string) => id.toUpperCase();
    await expect(pending(owner, upper(recordId))).rejects.toBeInstanceOf(NotFoundError);
    await expect(images.get(db.pool, owner, upper(recordId), image.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(images.get(db.pool, owner, recordId, upper(image.id))).rejects.toBeInstanceOf(NotFoundError);
    expect(await images.getById(db.pool, upper(image.id))).toBeUndefined();
    expect(await images.listForRecord(db.pool, owner, upper(recordId))).toEqual([]);
    expect((await images.listForRecord(db.pool, owner, recordId)).map((i) => i.id)).toEqual([image.id]);
  });

  it("a rejected image has a reason code; the table refuses inconsistent states", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const image = await pending(owner, recordId);
    expect(await images.markRejected(db.pool, { id: image.id, ownerId: owner, reason: "tooLarge" })).toBe(
      true,
    );
    expect(await images.get(db.pool, owner, recordId, image.id)).toMatchObject({
      status: "rejected",
      reason: "tooLarge",
    });
    await expect(
      db.pool.query("UPDATE images SET status = 'ready' WHERE id = $1", [image.id]),
    ).rejects.toThrow();
    await expect(
      images.markRejected(db.pool, {
        id: (await pending(owner, recordId)).id,
        ownerId: owner,
        reason: "no spaces allowed",
      }),
    ).rejects.toBeInstanceOf(QueryError);
  });

  it("deleting the record deletes its image rows", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const image = await pending(owner, recordId);
    await records.remove(db.pool, { id: recordId, ownerId: owner });
    expect(await images.getById(db.pool, image.id)).toBeUndefined();
  });

  it("the audit trail accepts the image actions", async () => {
    const owner = newOwner();
    const recordId = records.newRecordId();
    for (const action of ["image.upload", "image.download"] as const) {
      await audit.append(db.pool, { ownerId: owner, actor: owner, action, recordId });
    }
    expect((await audit.listForRecord(db.pool, owner, recordId)).map((e) => e.action)).toEqual([
      "image.upload",
      "image.download",
    ]);
    await expect(
      db.pool.query("INSERT INTO audit_events (owner_id, actor, action) VALUES ('o', 'o', 'image.peek')"),
    ).rejects.toThrow();
  });

  it("lists an owner's pending images only, oldest first and bounded, and rejects them in bulk", async () => {
    const owner = newOwner();
    const recordId = await recordOf(owner);
    const first = await pending(owner, recordId);
    await pending(owner, recordId);
    const decided = await pending(owner, recordId);
    await images.markRejected(db.pool, { id: decided.id, ownerId: owner, reason: "corrupt" });
    await pending(owner, await recordOf(owner));
    const two = (await images.pendingForOwner(db.pool, owner, 2)).map((p) => p.id);
    expect(two).toHaveLength(2);
    expect(two).not.toContain(decided.id);
    expect((await images.pendingForOwner(db.pool, owner, 10)).length).toBe(3);
    // Another owner's ids change nothing; decided images stay as they are.
    expect(await images.markRejectedMany(db.pool, newOwner(), [first.id], "expired")).toBe(0);
    expect(await images.markRejectedMany(db.pool, owner, [first.id, decided.id], "expired")).toBe(1);
    expect(await images.get(db.pool, owner, recordId, first.id)).toMatchObject({
      status: "rejected",
      reason: "expired",
    });
    expect((await images.get(db.pool, owner, recordId, decided.id)).reason).toBe("corrupt");
    expect((await images.pendingForOwner(db.pool, owner, 10)).length).toBe(2);
  });
});
