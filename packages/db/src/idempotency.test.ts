import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdempotencyConflictError, IdempotencyInProgressError } from "./errors.ts";
import * as idempotency from "./idempotency.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

describe("idempotency", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  /** The create flow a handler runs: claim, insert, complete, all in one transaction. */
  const createOnce = (
    ownerId: string,
    key: string,
    requestHash: string,
    hold?: { claimed: () => void; until: Promise<void> },
  ) =>
    withTransaction(db.pool, async (client) => {
      const claim = await idempotency.claim(client, { ownerId, key, requestHash });
      if (claim.state === "completed")
        return { replayed: true, recordId: claim.recordId, status: claim.status };
      const r = await records.insert(client, {
        id: records.newRecordId(),
        ownerId,
        category: "general",
        ciphertext: Buffer.from([1]),
      });
      await idempotency.complete(client, { ownerId, key, recordId: r.id, status: 201 });
      if (hold) {
        hold.claimed();
        await hold.until;
      }
      return { replayed: false, recordId: r.id, status: 201 };
    });

  it("replays the first record id to a retry with the same request", async () => {
    const owner = newOwner();
    const first = await createOnce(owner, "k1", "hash-a");
    const retry = await createOnce(owner, "k1", "hash-a");
    expect(first.replayed).toBe(false);
    expect(retry).toEqual({ replayed: true, recordId: first.recordId, status: 201 });
    expect((await records.list(db.pool, owner)).items).toHaveLength(1);
    const entry = await idempotency.find(db.pool, owner, "k1");
    expect(entry).toMatchObject({ requestHash: "hash-a", recordId: first.recordId, status: 201 });
  });

  it("rejects the same key with a different request (422)", async () => {
    const owner = newOwner();
    await createOnce(owner, "k1", "hash-a");
    const other = createOnce(owner, "k1", "hash-b");
    await expect(other).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(other).rejects.toMatchObject({ status: 422 });
    expect((await records.list(db.pool, owner)).items).toHaveLength(1);
  });

  it("keys are per owner", async () => {
    const a = await createOnce(newOwner(), "shared", "h");
    const b = await createOnce(newOwner(), "shared", "h");
    expect(b.replayed).toBe(false);
    expect(b.recordId).not.toBe(a.recordId);
  });

  it("reports a claim that was never completed as in progress", async () => {
    const owner = newOwner();
    expect(await idempotency.claim(db.pool, { ownerId: owner, key: "k", requestHash: "h" })).toEqual({
      state: "claimed",
    });
    await expect(
      idempotency.claim(db.pool, { ownerId: owner, key: "k", requestHash: "h" }),
    ).rejects.toBeInstanceOf(IdempotencyInProgressError);
  });

  /** Waits until some backend is blocked on a lock (deterministic, no sleeping on a guess). */
  async function untilSomeoneWaitsOnALock() {
    for (let i = 0; i < 400; i++) {
      const { rows } = await db.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
      );
      if (rows[0].n > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error("no backend ever waited on a lock");
  }

  /** A first request that stops inside its transaction, after claiming, until told to go on. */
  function heldRequest(owner: string, outcome: "commit" | "rollback") {
    let go!: () => void;
    let claimed!: () => void;
    const isClaimed = new Promise<void>((r) => {
      claimed = r;
    });
    const until = new Promise<void>((resolve, reject) => {
      go = outcome === "commit" ? resolve : () => reject(new Error("crypto failed"));
    });
    const done = createOnce(owner, "k", "h", { claimed, until });
    return { done, isClaimed, go };
  }

  it("makes a concurrent retry wait for the first request and replay its result", async () => {
    const owner = newOwner();
    const first = heldRequest(owner, "commit");
    await first.isClaimed;
    const retry = createOnce(owner, "k", "h");
    await untilSomeoneWaitsOnALock();
    first.go();
    const [a, b] = await Promise.all([first.done, retry]);
    expect(b).toEqual({ replayed: true, recordId: a.recordId, status: 201 });
    expect((await records.list(db.pool, owner)).items).toHaveLength(1);
  });

  it("lets a concurrent retry go ahead when the first request rolls back", async () => {
    const owner = newOwner();
    const first = heldRequest(owner, "rollback");
    await first.isClaimed;
    const retry = createOnce(owner, "k", "h");
    await untilSomeoneWaitsOnALock();
    first.go();
    await expect(first.done).rejects.toThrow("crypto failed");
    const b = await retry;
    expect(b.replayed).toBe(false);
    expect((await records.list(db.pool, owner)).items.map((r) => r.id)).toEqual([b.recordId]);
  });
});
