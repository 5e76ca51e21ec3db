import { sensitiveFields } from "@veil/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MigrationError } from "./errors.ts";
import { migrate } from "./migrate.ts";
import { migrations } from "./migrations.ts";
import { createPool } from "./pool.ts";
import { openTestDb, type TestDb } from "./testing/support.ts";

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

describe("migrate", { timeout: 60_000 }, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  }, 60_000);
  afterAll(() => db?.close());

  it("applies every migration once, and nothing on the second call", async () => {
    const pool = createPool({ connectionString: await db.freshDatabase() });
    try {
      const first = await migrate(pool);
      expect(first.applied).toEqual(migrations.map((m) => m.version));
      const second = await migrate(pool);
      expect(second).toEqual({ applied: [], current: first.current });
      const { rows } = await pool.query("SELECT version FROM schema_migrations ORDER BY version");
      expect(rows.map((r) => r.version)).toEqual(first.applied);
    } finally {
      await pool.end();
    }
  });

  it("is safe when several instances start at once", async () => {
    const url = await db.freshDatabase();
    const pools = Array.from({ length: 4 }, () => createPool({ connectionString: url, max: 1 }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrations.map((m) => m.version).sort());
      const { rows } = await pools[0]!.query("SELECT count(*)::int AS n FROM schema_migrations");
      expect(rows[0].n).toBe(migrations.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it("refuses to run when an applied migration was edited", async () => {
    const pool = createPool({ connectionString: await db.freshDatabase() });
    try {
      await migrate(pool);
      const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
      await expect(migrate(pool, edited)).rejects.toBeInstanceOf(MigrationError);
    } finally {
      await pool.end();
    }
  });

  it("leaves the schema untouched when a migration fails half-way", async () => {
    const pool = createPool({ connectionString: await db.freshDatabase() });
    try {
      await migrate(pool);
      const broken = [
        ...migrations,
        { version: 999, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT 1/0;" },
      ];
      await expect(migrate(pool, broken)).rejects.toThrow();
      const { rows } = await pool.query(
        "SELECT to_regclass('half_done') AS t, max(version) AS v FROM schema_migrations",
      );
      expect(rows[0]).toEqual({ t: null, v: migrations.at(-1)!.version });
    } finally {
      await pool.end();
    }
  });

  it("creates no column that could hold a sensitive field in clear", async () => {
    const { rows } = await db.pool.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'",
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const { table_name, column_name } of rows) {
      for (const field of sensitiveFields) {
        expect(norm(column_name), `${table_name}.${column_name}`).not.toContain(norm(field));
      }
    }
    const recordColumns = rows.filter((r) => r.table_name === "records").map((r) => r.column_name);
    expect(recordColumns.sort()).toEqual(
      ["id", "owner_id", "category", "ciphertext", "created_at", "updated_at", "version"].sort(),
    );
  });
});
