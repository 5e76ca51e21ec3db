import { describe, expect, it } from "vitest";
import {
  ConflictError,
  DatabaseUnavailableError,
  IdempotencyConflictError,
  NotFoundError,
  QueryError,
  toDbError,
  VersionConflictError,
} from "./errors.ts";

const serverError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`server said something about SECRET-VALUE (${code})`), {
    code,
    severity: "ERROR",
    detail: "Key (email)=(SECRET-VALUE) already exists.",
    ...extra,
  });

describe("toDbError", () => {
  it.each([
    ["57P01", DatabaseUnavailableError],
    ["57P03", DatabaseUnavailableError],
    ["08006", DatabaseUnavailableError],
    ["28P01", DatabaseUnavailableError],
    ["53300", DatabaseUnavailableError],
    ["40001", DatabaseUnavailableError],
    ["23505", ConflictError],
    ["22P02", QueryError],
    ["23514", QueryError],
  ])("maps SQLSTATE %s without echoing values", (code, type) => {
    const e = toDbError(serverError(code, { table: "records", constraint: "records_pkey" }));
    expect(e).toBeInstanceOf(type);
    expect(`${e.message} ${JSON.stringify(e)} ${e.stack}`).not.toContain("SECRET");
  });

  it.each([
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "ERR_TLS_CERT_ALTNAME_INVALID",
  ])("maps %s to DatabaseUnavailable", (code) => {
    const e = toDbError(Object.assign(new Error("connect 10.0.0.1:5432"), { code }));
    expect(e).toBeInstanceOf(DatabaseUnavailableError);
    expect(e).toMatchObject({ status: 503, retryable: true });
  });

  it("maps pg client failures by message, and anything else to a bare QueryError", () => {
    expect(toDbError(new Error("Connection terminated unexpectedly"))).toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(toDbError(new Error("timeout exceeded when trying to connect"))).toBeInstanceOf(
      DatabaseUnavailableError,
    );
    const other = toDbError(new Error("weird SECRET-VALUE"));
    expect(other).toBeInstanceOf(QueryError);
    expect(other.message).not.toContain("SECRET");
  });

  it("does not trust object names that look like values", () => {
    const e = toDbError(serverError("23514", { table: "records", constraint: "x (SECRET-VALUE)" }));
    expect(JSON.stringify(e)).not.toContain("SECRET");
  });

  it("passes its own errors through, with HTTP statuses", () => {
    const own = new VersionConflictError(1, 2);
    expect(toDbError(own)).toBe(own);
    expect(own.status).toBe(412);
    expect(new IdempotencyConflictError().status).toBe(422);
    expect(new NotFoundError("record").status).toBe(404);
  });
});
