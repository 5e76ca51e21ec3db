/**
 * The one database pool of every function, built from the `Database` link.
 *
 * The rule, by where the function runs:
 * - AWS (RDS through the RDS Proxy, IAM tokens, TLS with the runtime's CA bundle): every connection is
 *   a session of its own, so named statements stay prepared per connection and nothing is reset on
 *   connect (a `DEALLOCATE` would only pin the proxy's connection).
 * - Local stack on PostgreSQL (`url`): the same, with a password login.
 * - Local stack on PGlite (`url` and `singleSession`): every connection of every function is ONE shared
 *   session. One connection per function, and every statement is sent unnamed: a named one would clash
 *   (42P05) with the same name prepared by another function, or by this one before a reconnect, and a
 *   reset on connect (`DEALLOCATE ALL`) would drop the statements other functions still rely on.
 */
import { readFile } from "node:fs/promises";
import { createPool } from "@veil/db";
import { type LinkedResources, linked } from "./resources.ts";

export type Pool = ReturnType<typeof createPool>;

/** Where Lambda's Node.js runtime keeps the CA bundle that includes the RDS certificate authorities. */
const lambdaCaBundle = "/var/runtime/ca-cert.pem";

/** Connections per function instance: Lambda serves one request at a time, the second is for overlap. */
const maxConnections = 2;

/**
 * Builds the pool from the linked `Database` (or the one given).
 *
 * @example
 * const pool = await databasePool();
 * await records.get(pool, ownerId, id);
 */
export async function databasePool(db: LinkedResources["Database"] = linked("Database")): Promise<Pool> {
  if (!db.url) {
    return createPool({
      rds: {
        host: db.host,
        port: db.port,
        user: db.username,
        database: db.database,
        region: process.env.AWS_REGION ?? "",
      },
      ca: await readFile(lambdaCaBundle),
      max: maxConnections,
    });
  }
  if (!db.singleSession) return createPool({ connectionString: db.url, max: maxConnections });
  const pool = createPool({ connectionString: db.url, max: 1 });
  pool.on("connect", sendUnnamed);
  return pool;
}

/** Makes a client send every statement unnamed (see the PGlite rule above). */
function sendUnnamed(client: { query: unknown }): void {
  const query = (client.query as (...args: unknown[]) => unknown).bind(client);
  client.query = (config: unknown, ...rest: unknown[]) =>
    query(
      typeof config === "object" && config !== null && "name" in config
        ? { ...config, name: undefined }
        : config,
      ...rest,
    );
}
