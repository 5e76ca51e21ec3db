import { type RecordRouteKey, ValidationError } from "@veil/core";
import { CryptoError } from "@veil/crypto";
import { DbError, IdempotencyInProgressError } from "@veil/db";
import { createLogger } from "@veil/log";
import type { APIGatewayProxyResult } from "aws-lambda";
import { createApiHandler } from "../shared/api-handler.ts";
import { HttpError } from "../shared/errors.ts";
import { createRecordsDeps, type RecordsDeps } from "./deps.ts";
import {
  createRecord,
  deleteRecord,
  getRecord,
  listRecords,
  type RouteInput,
  recordAudit,
  updateRecord,
} from "./routes.ts";
import { type HandlerLogger, testLogger, withTestSwitches } from "./test-switches.ts";

// The test-only switches (./test-switches.ts) are on only where esbuild defines this constant exactly
// `true`: the test flavour of functions/build.ts. Production bundles define it `false`, which removes the
// switches and everything they reference; a build without the define, or the unbundled source, leaves
// them off (fail closed).
declare const __VEIL_TEST_SWITCHES__: boolean | undefined;

const logger: HandlerLogger =
  typeof __VEIL_TEST_SWITCHES__ !== "undefined" && __VEIL_TEST_SWITCHES__ === true
    ? testLogger(createLogger({ serviceName: "veil-records" }), "veil-records")
    : createLogger({ serviceName: "veil-records" });

type Route = (input: RouteInput) => Promise<APIGatewayProxyResult>;

/** The implementation of each route of `recordRoutes` (core); the type makes a missing one an error. */
export const routes: Readonly<Record<RecordRouteKey, Route>> = {
  "POST /api/records": createRecord,
  "GET /api/records": listRecords,
  "GET /api/records/{id}": getRecord,
  "PUT /api/records/{id}": updateRecord,
  "POST /api/records/{id}": updateRecord,
  "DELETE /api/records/{id}": deleteRecord,
  "GET /api/records/{id}/audit": recordAudit,
};

/** Adds the test-only switches to the deps in test builds; production bundles compile this out. */
const buildDeps = (): Promise<RecordsDeps> =>
  createRecordsDeps().then((d) =>
    typeof __VEIL_TEST_SWITCHES__ !== "undefined" && __VEIL_TEST_SWITCHES__ === true
      ? withTestSwitches(d, logger)
      : d,
  );

/** Turns anything thrown into a safe HTTP error: typed errors keep their status, the rest is a 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ValidationError) {
    return new HttpError(
      400,
      "ValidationError",
      "Some fields are invalid",
      err.issues.map(({ field, code, message }) => ({ field, code, message })),
    );
  }
  if (err instanceof CryptoError || err instanceof DbError) {
    const status = err.status;
    if (status === 404) return new HttpError(404, "NotFound", "No such record");
    if (status === 412)
      return new HttpError(
        412,
        "PreconditionFailed",
        "The record was changed meanwhile; reload it and try again",
      );
    if (err instanceof IdempotencyInProgressError)
      return new HttpError(
        409,
        "IdempotencyKeyInUse",
        "A request with this Idempotency-Key is still in progress; try again shortly",
        undefined,
        1,
      );
    if (status === 409) return new HttpError(409, "Conflict", "The request conflicts with existing data");
    if (status === 422)
      return new HttpError(
        422,
        "IdempotencyKeyReused",
        "This Idempotency-Key was used for a different request",
      );
    if (status === 400) return new HttpError(400, "BadRequest", "The request could not be read");
    if (status === 503)
      return new HttpError(
        503,
        "Unavailable",
        "A dependency is unavailable; try again shortly",
        undefined,
        2,
      );
  }
  return new HttpError(500, "InternalError", "Something went wrong on our side");
}

/** API Gateway (REST, proxy integration) entry point of the records API. */
export const handler = createApiHandler({ routes, deps: buildDeps, toHttpError, logger });
