/**
 * Typed errors of the db package. Messages name tables, constraints and SQLSTATE codes, never values:
 * PostgreSQL error texts can echo parameters (`DETAIL: Key (id)=(…)`, `invalid input syntax for type
 * uuid: "…"`), so a driver error is never passed through, nor kept as `cause`.
 */

/** Base class: every error this package throws. `status` is the HTTP status a handler should answer. */
export abstract class DbError extends Error {
  abstract readonly status: number;
  /** True when retrying the same call later may succeed. */
  readonly retryable: boolean = false;
}

/** The row does not exist for this owner (another owner's row is reported the same way). */
export class NotFoundError extends DbError {
  override readonly name = "NotFoundError";
  readonly status = 404;
  constructor(readonly entity: string) {
    super(`${entity} not found`);
  }
}

/** The write conflicts with existing data (e.g. a unique constraint). */
export class ConflictError extends DbError {
  override readonly name: string = "ConflictError";
  readonly status: number = 409;
  constructor(
    message: string,
    readonly constraint?: string,
  ) {
    super(message);
  }
}

/**
 * Optimistic concurrency: the row changed since the caller read it. HTTP 412: the caller's
 * precondition (`If-Match` with the version it saw) failed (RFC 9110, 13.1.1).
 */
export class VersionConflictError extends ConflictError {
  override readonly name = "VersionConflictError";
  override readonly status = 412;
  constructor(
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`version conflict: expected ${expectedVersion}, found ${actualVersion}`);
  }
}

/** An idempotency key was reused with a different request. HTTP 422, as in the IETF idempotency draft. */
export class IdempotencyConflictError extends ConflictError {
  override readonly name = "IdempotencyConflictError";
  override readonly status = 422;
  constructor() {
    super("idempotency key was already used with a different request");
  }
}

/** An earlier request with this idempotency key has not finished yet. */
export class IdempotencyInProgressError extends ConflictError {
  override readonly name = "IdempotencyInProgressError";
  override readonly retryable = true;
  constructor() {
    super("a request with this idempotency key is still in progress");
  }
}

/** A list cursor that this package did not issue (or that names no position): the caller's mistake. */
export class InvalidCursorError extends DbError {
  override readonly name = "InvalidCursorError";
  readonly status = 400;
  constructor() {
    super("unreadable list cursor");
  }
}

/** The database cannot be reached or is shutting down, overloaded, or refused our credentials. */
export class DatabaseUnavailableError extends DbError {
  override readonly name = "DatabaseUnavailableError";
  readonly status = 503;
  override readonly retryable = true;
  constructor(readonly reason: string) {
    super(`database unavailable: ${reason}`);
  }
}

/** Any other database failure: carries the SQLSTATE and schema object names, nothing else. */
export class QueryError extends DbError {
  override readonly name = "QueryError";
  readonly status = 500;
  constructor(
    readonly code: string | undefined,
    readonly detail: { table?: string; column?: string; constraint?: string } = {},
  ) {
    const where = [detail.table, detail.column, detail.constraint].filter(Boolean).join(".");
    super(`database error ${code ?? "(no code)"}${where ? ` at ${where}` : ""}`);
  }
}

/** Migrations cannot be applied (an applied migration was edited, or the database is newer). */
export class MigrationError extends DbError {
  override readonly name = "MigrationError";
  readonly status = 500;
}

const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "EAI_AGAIN",
]);
const tlsCodes =
  /^(?:SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_\w+|ERR_TLS_\w+|ERR_SSL_\w+)$/;
const clientMessages: Array<[RegExp, string]> = [
  // "Client has encountered a connection error and is not queryable": a query after the connection died.
  [/Connection terminated|connection error|Connection ended|not queryable/i, "connection lost"],
  [/timeout exceeded when trying to connect|connection timeout/i, "connect timeout"],
  [/does not support SSL/i, "server does not support TLS"],
  [/too many connections/i, "too many connections"],
];

/** SQLSTATE classes and codes that mean "try again later", with a short reason. */
function unavailableReason(code: string): string | undefined {
  if (code.startsWith("08")) return "connection failure";
  if (code.startsWith("28")) return "authentication failed";
  if (code.startsWith("53")) return "server out of resources";
  if (code === "57P01" || code === "57P02" || code === "57P03") return "server shutting down or starting";
  if (code === "57014") return "statement timeout";
  if (code === "40001" || code === "40P01") return "serialization failure";
  if (code === "55P03") return "lock not available";
  return undefined;
}

/** True for errors raised by PostgreSQL or the network below `pg` (as opposed to application errors). */
export function isDriverError(error: unknown): boolean {
  if (typeof error !== "object" || error === null || error instanceof DbError) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  if (typeof code !== "string") return false;
  return typeof severity === "string" || networkCodes.has(code) || tlsCodes.test(code);
}

/**
 * Converts anything the `pg` driver or the network throws into a `DbError` whose message holds no
 * value from the query. `DbError`s pass through unchanged.
 */
export function toDbError(error: unknown): DbError {
  if (error instanceof DbError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof e.code === "string" ? e.code : undefined;
  const str = (v: unknown) => (typeof v === "string" && /^[\w$.]{1,128}$/.test(v) ? v : undefined);
  const isServerError = code !== undefined && /^[0-9A-Z]{5}$/.test(code) && typeof e.severity === "string";
  if (isServerError) {
    const reason = unavailableReason(code);
    if (reason) return new DatabaseUnavailableError(reason);
    if (code === "23505") return new ConflictError("duplicate key", str(e.constraint));
    return new QueryError(code, {
      table: str(e.table),
      column: str(e.column),
      constraint: str(e.constraint),
    });
  }
  if (code && networkCodes.has(code)) return new DatabaseUnavailableError(`network (${code})`);
  if (code && tlsCodes.test(code)) return new DatabaseUnavailableError(`TLS (${code})`);
  const message = typeof e.message === "string" ? e.message : "";
  for (const [pattern, reason] of clientMessages) {
    if (pattern.test(message)) return new DatabaseUnavailableError(reason);
  }
  return new QueryError(undefined);
}
