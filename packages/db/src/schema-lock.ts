import type { PoolClient } from "pg";

/** Key of the transaction-scoped advisory lock that serializes schema changes (migrations, grants). */
const lockKey = 0x7665696c; // "veil"

/**
 * Takes the schema lock for the rest of the transaction: concurrent starts of several instances (or a
 * deploy-time bootstrap and a local start) queue up instead of racing. Per database.
 */
export async function lockSchema(client: PoolClient): Promise<void> {
  await client.query({ text: "SELECT pg_advisory_xact_lock($1)", values: [lockKey] });
}
