import type { Pool, PoolClient, QueryConfig, QueryResultRow } from "pg";
import { toDbError } from "./errors.ts";

/** A pool or a client checked out of it (e.g. inside `withTransaction`). Repositories accept either. */
export type Queryable = Pool | PoolClient;

/** Runs one statement; driver errors become value-free `DbError`s. */
export async function run<R extends QueryResultRow>(db: Queryable, query: QueryConfig): Promise<R[]> {
  try {
    const result = await db.query<R>(query);
    return result.rows;
  } catch (error) {
    throw toDbError(error);
  }
}
