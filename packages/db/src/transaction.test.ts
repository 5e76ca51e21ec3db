import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as audit from "./audit.ts";
import { DbError, NotFoundError } from "./errors.ts";
import * as idempotency from "./idempotency.ts";
import { createPool } from "./pool.ts";
import * as records from "./records.ts";
import { newOwner, openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

describe("withTransaction", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  it("commits everything the function wrote", async () => {
    const owner = newOwner();
    const id = records.newRecordId();
    await withTransaction(db.pool, async (c) => {
      await records.insert(c, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([1]) });
      await audit.append(c, { ownerId: owner, actor: owner, action: "create", recordId: id });
    });
    expect((await records.get(db.pool, owner, id)).id).toBe(id);
    expect(await audit.listForRecord(db.pool, owner, id)).toHaveLength(1);
  });

  it("a connection lost mid-transaction rejects with DatabaseUnavailableError and does not crash the process", async () => {
    const owner = newOwner();
    const id = records.newRecordId();
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      await expect(
        withTransaction(db.pool, async (c) => {
          await records.insert(c, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([1]) });
          const { rows } = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          await db.pool.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
          await records.get(c, owner, id);
        }),
      ).rejects.toMatchObject({ name: "DatabaseUnavailableError" });
      await new Promise((r) => setTimeout(r, 50));
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", onUncaught);
    }
    await expect(records.get(db.pool, owner, id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("leaves nothing behind when the function throws, and rethrows its error unchanged", async () => {
    const owner = newOwner();
    const id = records.newRecordId();
    const boom = new Error("envelope encryption failed");
    const attempt = withTransaction(db.pool, async (c) => {
      await idempotency.claim(c, { ownerId: owner, key: "k", requestHash: "h" });
      await records.insert(c, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([1]) });
      await audit.append(c, { ownerId: owner, actor: owner, action: "create", recordId: id });
      throw boom;
    });
    await expect(attempt).rejects.toBe(boom);
    await expect(records.get(db.pool, owner, id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await audit.listForRecord(db.pool, owner, id)).toEqual([]);
    expect(await idempotency.find(db.pool, owner, "k")).toBeUndefined();
  });

  it("turns a raw driver error inside the function into a value-free DbError", async () => {
    const attempt = withTransaction(db.pool, (c) => c.query("SELECT $1::uuid", ["CANARY-not-a-uuid"]));
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbError);
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toContain("CANARY");
  });

  it("returns every client to the pool, on success and on failure", async () => {
    const pool = createPool({ connectionString: db.server.connectionString, max: 2 });
    try {
      for (let i = 0; i < 10; i++) {
        await withTransaction(pool, async () => {
          throw new Error("fail");
        }).catch(() => {});
        await withTransaction(pool, (c) => c.query("SELECT 1"));
      }
      expect(pool.totalCount).toBeLessThanOrEqual(2);
      expect(pool.idleCount).toBe(pool.totalCount);
      expect(pool.waitingCount).toBe(0);
      // A client left inside an aborted transaction would fail this:
      const { rows } = await pool.query("SELECT 1 AS ok");
      expect(rows[0].ok).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it("runs at the requested isolation level", async () => {
    const level = await withTransaction(
      db.pool,
      async (c) => (await c.query("SHOW transaction_isolation")).rows[0].transaction_isolation,
      { isolation: "serializable" },
    );
    expect(level).toBe("serializable");
  });
});
