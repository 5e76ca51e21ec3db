import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databasePool, type Pool } from "./database.ts";

const link = (url: string, singleSession?: boolean) => ({
  host: "127.0.0.1",
  port: 5432,
  username: "veil_app",
  database: "postgres",
  url,
  ...(singleSession === undefined ? {} : { singleSession }),
});

/** Runs a named statement, then lists the statements the session holds prepared. */
async function preparedAfterNamedQuery(pool: Pool): Promise<string[]> {
  await pool.query({ name: "veil-probe", text: "SELECT $1::int AS n", values: [1] });
  const { rows } = await pool.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
  return rows.map((r) => r.name);
}

describe("databasePool", { timeout: 60_000 }, () => {
  let server: TestPostgres;
  const pools: Pool[] = [];
  const open = async (...args: Parameters<typeof databasePool>) => {
    const pool = await databasePool(...args);
    pools.push(pool);
    return pool;
  };

  beforeAll(async () => {
    server = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await server?.stop();
  });

  it("on PostgreSQL keeps two connections and prepares named statements once per connection", async () => {
    const pool = await open(link(server.connectionString));
    expect(pool.options.max).toBe(2);
    const client = await pool.connect();
    try {
      await client.query({ name: "veil-probe", text: "SELECT 1" });
      const { rows } = await client.query<{ name: string }>("SELECT name FROM pg_prepared_statements");
      expect(rows.map((r) => r.name)).toEqual(["veil-probe"]);
    } finally {
      client.release();
    }
  });

  it("on a single shared session (PGlite) keeps one connection and sends every statement unnamed", async () => {
    const pool = await open(link(server.connectionString, true));
    expect(pool.options.max).toBe(1);
    // Nothing named is left in the shared session for another function to clash with.
    expect(await preparedAfterNamedQuery(pool)).toEqual([]);
    const { rows } = await pool.query<{ n: number }>({
      name: "veil-probe",
      text: "SELECT $1::int AS n",
      values: [7],
    });
    expect(rows[0]?.n).toBe(7);
  });
});
