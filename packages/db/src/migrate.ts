import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { MigrationError } from "./errors.ts";
import { migrations as defaultMigrations, type Migration } from "./migrations.ts";
import { withTransaction } from "./transaction.ts";

/** Key of the transaction-scoped advisory lock that serializes concurrent `migrate` calls. */
const lockKey = 0x7665696c; // "veil"

function checksum(m: Migration): string {
  return createHash("sha256").update(m.sql).digest("hex");
}

/** What `migrate` did. */
export interface MigrateResult {
  applied: number[];
  current: number;
}

/**
 * Brings the schema up to date: in one transaction, takes an advisory lock (so concurrent starts of
 * several instances queue up instead of racing), creates `schema_migrations` if needed, verifies the
 * checksums of applied migrations it knows and applies the missing ones in order. Safe to call on every start;
 * a failure leaves the schema as it was.
 */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = defaultMigrations,
): Promise<MigrateResult> {
  return withTransaction(pool, async (client) => {
    await client.query({ text: "SELECT pg_advisory_xact_lock($1)", values: [lockKey] });
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      checksum    text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number; checksum: string }>(
      "SELECT version, checksum FROM schema_migrations ORDER BY version",
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const m = known.get(row.version);
      // A newer migration than this code knows: an older instance during a rolling deploy. Tolerated.
      if (m && checksum(m) !== row.checksum)
        throw new MigrationError(`applied migration ${row.version} was edited`);
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query({
        text: "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        values: [m.version, m.name, checksum(m)],
      });
      applied.push(m.version);
    }
    const current = Math.max(0, ...done, ...applied);
    return { applied, current };
  });
}
