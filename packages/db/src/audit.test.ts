import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as audit from "./audit.ts";
import { newRecordId } from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";

describe("audit", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  it("appends events and lists a record's trail, oldest first, for its owner only", async () => {
    const owner = newOwner();
    const recordId = newRecordId();
    await audit.append(db.pool, {
      ownerId: owner,
      actor: owner,
      action: "create",
      recordId,
      requestId: "r1",
    });
    await audit.append(db.pool, { ownerId: owner, actor: owner, action: "read", recordId, requestId: "r2" });
    await audit.append(db.pool, { ownerId: owner, actor: owner, action: "list" });
    const trail = await audit.listForRecord(db.pool, owner, recordId);
    expect(trail.map((e) => [e.action, e.requestId])).toEqual([
      ["create", "r1"],
      ["read", "r2"],
    ]);
    expect(trail[0]?.at).toBeInstanceOf(Date);
    expect(await audit.listForRecord(db.pool, newOwner(), recordId)).toEqual([]);
    // Another spelling of the id, or no uuid at all, lists nothing (and raises no database error).
    expect(await audit.listForRecord(db.pool, owner, recordId.toUpperCase())).toEqual([]);
    expect(await audit.listForRecord(db.pool, owner, "no-uuid")).toEqual([]);
  });

  it("appendMany writes a batch in one statement, all or none", async () => {
    const owner = newOwner();
    const ids = [newRecordId(), newRecordId(), newRecordId()];
    expect(await audit.appendMany(db.pool, [])).toBe(0);
    const events = ids.map((recordId) => ({
      ownerId: owner,
      actor: owner,
      action: "list" as const,
      recordId,
      requestId: "page-1",
    }));
    expect(await audit.appendMany(db.pool, events)).toBe(3);
    for (const recordId of ids) {
      expect(
        (await audit.listForRecord(db.pool, owner, recordId)).map((e) => [e.action, e.requestId]),
      ).toEqual([["list", "page-1"]]);
    }
    // One bad event (an action the table refuses) and nothing of the batch is written.
    const other = newRecordId();
    await expect(
      audit.appendMany(db.pool, [
        { ownerId: owner, actor: owner, action: "list", recordId: other },
        { ownerId: owner, actor: owner, action: "bogus" as "list", recordId: other },
      ]),
    ).rejects.toThrow();
    expect(await audit.listForRecord(db.pool, owner, other)).toEqual([]);
  });

  it("is append-only: UPDATE, DELETE and TRUNCATE are rejected by the database", async () => {
    const owner = newOwner();
    const recordId = newRecordId();
    const event = await audit.append(db.pool, { ownerId: owner, actor: owner, action: "delete", recordId });
    const tampering = [
      { text: "UPDATE audit_events SET action = 'read' WHERE id = $1", values: [event.id] },
      { text: "DELETE FROM audit_events WHERE id = $1", values: [event.id] },
      { text: "TRUNCATE audit_events", values: [] },
    ];
    for (const q of tampering) {
      await expect(db.pool.query(q)).rejects.toMatchObject({ code: "42501" });
    }
    expect(await audit.listForRecord(db.pool, owner, recordId)).toEqual([event]);
  });

  it("keeps the order past 9, 99, 999 events (ids sort as numbers, not as their text)", async () => {
    const owner = newOwner();
    const recordId = newRecordId();
    const requestIds = Array.from({ length: 12 }, (_, i) => `r${i}`);
    for (const requestId of requestIds)
      await audit.append(db.pool, { ownerId: owner, actor: owner, action: "read", recordId, requestId });
    // Push the sequence across a power of ten so a text sort would misplace the last entries.
    await db.pool.query("SELECT setval('audit_events_id_seq', (SELECT max(id) FROM audit_events) + 1000)");
    await audit.append(db.pool, {
      ownerId: owner,
      actor: owner,
      action: "delete",
      recordId,
      requestId: "last",
    });
    const trail = await audit.listForRecord(db.pool, owner, recordId);
    expect(trail.map((e) => e.requestId)).toEqual([...requestIds, "last"]);
  });

  it("accepts only known actions", async () => {
    const owner = newOwner();
    await expect(
      audit.append(db.pool, {
        ownerId: owner,
        actor: owner,
        action: "exfiltrate" as audit.AuditEvent["action"],
      }),
    ).rejects.toMatchObject({ code: "23514" });
  });
});
