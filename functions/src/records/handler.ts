import { type RecordRouteKey, ValidationError } from "@veil/core";
import { CryptoError } from "@veil/crypto";
import { DbError } from "@veil/db";
import { createLogger } from "@veil/log";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { HttpError } from "../shared/errors.ts";
import { errorResponse } from "../shared/http.ts";
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

// Test builds only: esbuild defines this as `false` in every production bundle, which removes the test
// switches (./test-switches.ts) and everything they reference. Unbundled (tsx, Vitest) it is undeclared.
declare const __VEIL_TEST_SWITCHES__: boolean | undefined;

const logger: HandlerLogger =
  typeof __VEIL_TEST_SWITCHES__ === "undefined" || __VEIL_TEST_SWITCHES__
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

// Built on the first invocation, outside the hot path; a failed build is retried by the next one.
let deps: Promise<RecordsDeps> | undefined;
function getDeps(): Promise<RecordsDeps> {
  deps ??= createRecordsDeps().then(
    (d) =>
      typeof __VEIL_TEST_SWITCHES__ === "undefined" || __VEIL_TEST_SWITCHES__
        ? withTestSwitches(d, logger)
        : d,
    (err: unknown) => {
      deps = undefined;
      throw err;
    },
  );
  return deps;
}

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
    if (status === 409)
      return new HttpError(409, "Conflict", "The record was changed meanwhile; reload it and try again");
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
export async function handler(event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> {
  const requestId = event.requestContext?.requestId ?? context.awsRequestId;
  const key = `${event.httpMethod} ${event.resource}`;
  const started = Date.now();
  let result: APIGatewayProxyResult;
  let failure: string | undefined;
  try {
    const route = routes[key as RecordRouteKey];
    if (!route) throw new HttpError(404, "NotFound", "No such route");
    const d = await getDeps();
    const caller = await d.verifyCaller(event);
    result = await route({ deps: d, caller, event, requestId });
  } catch (err) {
    const httpError = toHttpError(err);
    failure = err instanceof Error ? `${err.name}${"code" in err ? `:${String(err.code)}` : ""}` : "unknown";
    result = errorResponse(httpError, requestId);
  }
  const line = {
    route: key,
    status: result.statusCode,
    ms: Date.now() - started,
    requestId,
    awsRequestId: context.awsRequestId,
  };
  if (result.statusCode >= 500) logger.error("request failed", { ...line, error: failure });
  else if (failure) logger.warn("request rejected", { ...line, error: failure });
  else logger.info("request", line);
  return result;
}
