import type { Pool, PoolClient } from "pg";
import { isDriverError, toDbError } from "./errors.ts";

/** Options of `withTransaction`. */
export interface TransactionOptions {
  /** Defaults to PostgreSQL's READ COMMITTED. */
  isolation?: "read committed" | "repeatable read" | "serializable";
}

/**
 * Runs `fn` in one transaction on one client of `pool`: BEGIN, then COMMIT if `fn` resolves, ROLLBACK
 * if it throws (application errors are rethrown unchanged, driver errors as value-free `DbError`s).
 * The client always goes back to the pool; if ROLLBACK itself fails the client is destroyed rather
 * than reused, so no half-written change can leak into a later transaction. If the connection drops
 * during COMMIT the outcome is unknown: callers that retry should use an idempotency key.
 */
export async function withTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    throw toDbError(error);
  }
  let discard = false;
  // A checked-out client has no error listener of the pool's: a connection lost mid-transaction would
  // emit an unhandled 'error' and crash the process. The failing query rejects anyway; just discard.
  const onError = () => {
    discard = true;
  };
  client.on("error", onError);
  try {
    const begin = options.isolation ? `BEGIN ISOLATION LEVEL ${options.isolation.toUpperCase()}` : "BEGIN";
    try {
      await client.query(begin);
    } catch (error) {
      discard = true;
      throw toDbError(error);
    }
    let result: T;
    try {
      result = await fn(client);
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch {
        discard = true;
      }
      throw isDriverError(error) ? toDbError(error) : error;
    }
    try {
      await client.query("COMMIT");
    } catch (error) {
      discard = true;
      throw toDbError(error);
    }
    return result;
  } finally {
    client.off("error", onError);
    client.release(discard);
  }
}
