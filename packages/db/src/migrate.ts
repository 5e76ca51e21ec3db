import { createHash } from "node:crypto";
import type { Pool } from "pg";
import { type AppRoleOptions, type AppRoleResult, applyAppRole } from "./app-role.ts";
import { MigrationError } from "./errors.ts";
import { migrations as defaultMigrations, type Migration } from "./migrations.ts";
import { lockSchema } from "./schema-lock.ts";
import { withTransaction } from "./transaction.ts";

function checksum(m: Migration): string {
  return createHash("sha256").update(m.sql).digest("hex");
}

/** What `migrate` did. */
export interface MigrateResult {
  applied: number[];
  current: number;
  /** With `options.appRole`: what `grantAppRole` did; absent when the database is newer than this code. */
  appRole?: AppRoleResult;
}

/** Options of `migrate`. */
export interface MigrateOptions {
  /**
   * Also bring the application role up to date (`grantAppRole`), after the migrations and in the same
   * transaction: a new table and its grants commit together. Needs a user allowed to create roles.
   */
  appRole?: AppRoleOptions;
}

/**
 * Brings the schema up to date: in one transaction, takes an advisory lock (so concurrent starts of
 * several instances queue up instead of racing), creates `schema_migrations` if needed, verifies the
 * checksums of applied migrations it knows and applies the missing ones in order; with
 * `options.appRole`, then applies the role model (`grantAppRole`). Safe to call on every start; a
 * failure leaves the schema (and the grants) as they were.
 */
export async function migrate(
  pool: Pool,
  migrations: readonly Migration[] = defaultMigrations,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  return withTransaction(pool, async (client) => {
    await lockSchema(client);
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
    // A database already migrated by newer code (a rollback, or an older instance during a rolling
    // deploy) keeps the newer code's grants: an older declaration never takes privileges away from it.
    const newer = rows.some((r) => !known.has(r.version));
    if (!options.appRole || newer) return { applied, current };
    return { applied, current, appRole: await applyAppRole(client, options.appRole) };
  });
}
