/** Shared set-up of the db tests: one real PostgreSQL per test file, migrated. Not exported. */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { migrate } from "../migrate.ts";
import { createPool } from "../pool.ts";
import { startTestPostgres, type TestPostgres } from "./postgres.ts";

export interface TestDb {
  server: TestPostgres;
  pool: pg.Pool;
  /** A new empty database on the same server; returns its connection string. */
  freshDatabase(): Promise<string>;
  close(): Promise<void>;
}

export async function openTestDb(): Promise<TestDb> {
  const server = await startTestPostgres();
  const pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  const extra: string[] = [];
  return {
    server,
    pool,
    async freshDatabase() {
      const name = `t_${randomUUID().replaceAll("-", "")}`;
      await pool.query(`CREATE DATABASE ${name}`);
      extra.push(name);
      const url = new URL(server.connectionString);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async close() {
      for (const name of extra) await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await pool.end();
      await server.stop();
    },
  };
}

/** An owner id no other test uses, so tests need no cleanup between them. */
export const newOwner = () => `owner-${randomUUID()}`;
