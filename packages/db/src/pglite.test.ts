import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as audit from "./audit.ts";
import { NotFoundError, VersionConflictError } from "./errors.ts";
import * as idempotency from "./idempotency.ts";
import { migrate } from "./migrate.ts";
import { migrations } from "./migrations.ts";
import { startPgliteServer } from "./pglite.ts";
import { createPool } from "./pool.ts";
import * as records from "./records.ts";
import { withTransaction } from "./transaction.ts";

describe("the same repositories on the PGlite server", { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "veil-pglite-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("migrates, writes, reads, enforces the rules and persists across restarts", async () => {
    const owner = "owner-1";
    const id = records.newRecordId();

    const first = await startPgliteServer({ dataDir });
    const pool = createPool(first.poolOptions);
    try {
      expect((await migrate(pool)).applied).toEqual(migrations.map((m) => m.version));
      expect((await migrate(pool)).applied).toEqual([]);
      await withTransaction(pool, async (c) => {
        expect(await idempotency.claim(c, { ownerId: owner, key: "k", requestHash: "h" })).toEqual({
          state: "claimed",
        });
        await records.insert(c, { id, ownerId: owner, category: "general", ciphertext: Buffer.from([7, 7]) });
        await audit.append(c, { ownerId: owner, actor: owner, action: "create", recordId: id });
        await idempotency.complete(c, { ownerId: owner, key: "k", recordId: id, status: 201 });
      });
      const updated = await records.update(pool, {
        id,
        ownerId: owner,
        expectedVersion: 1,
        category: "oncology",
        ciphertext: Buffer.from([8]),
      });
      expect(updated.version).toBe(2);
      await expect(
        records.update(pool, {
          id,
          ownerId: owner,
          expectedVersion: 1,
          category: "x",
          ciphertext: Buffer.from([9]),
        }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      await expect(records.get(pool, "someone-else", id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(pool.query("DELETE FROM audit_events")).rejects.toMatchObject({ code: "42501" });
      // pg replaced the connection after that error; the new one shares PGlite's single session,
      // where the named statements of the old one still exist unless the pool resets them.
      expect((await records.get(pool, owner, id)).version).toBe(2);
      await expect(
        withTransaction(pool, async (c) => {
          await records.insert(c, {
            id: records.newRecordId(),
            ownerId: owner,
            category: "general",
            ciphertext: Buffer.from([1]),
          });
          throw new Error("rolled back");
        }),
      ).rejects.toThrow("rolled back");
    } finally {
      await pool.end();
      await first.stop();
    }

    const second = await startPgliteServer({ dataDir });
    const again = createPool(second.poolOptions);
    try {
      expect((await migrate(again)).applied).toEqual([]);
      const { items } = await records.list(again, owner);
      expect(items.map((r) => [r.id, r.version, r.category])).toEqual([[id, 2, "oncology"]]);
      expect(await idempotency.claim(again, { ownerId: owner, key: "k", requestHash: "h" })).toEqual({
        state: "completed",
        recordId: id,
        status: 201,
      });
      expect((await audit.listForRecord(again, owner, id)).map((e) => e.action)).toEqual(["create"]);
    } finally {
      await again.end();
      await second.stop();
    }
  });
});
