import type { RecordRouteKey } from "@veil/core";
import { createLogger } from "@veil/log";
import type { APIGatewayProxyResult } from "aws-lambda";
import { createApiHandler } from "../shared/api-handler.ts";
import { toHttpError } from "../shared/errors.ts";
import { createRecordsDeps, type RecordsDeps } from "./deps.ts";
import { exportRecords } from "./export.ts";
import { listRecords } from "./list.ts";
import {
  createRecord,
  deleteRecord,
  getRecord,
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
  "GET /api/export": exportRecords,
};

/** Adds the test-only switches to the deps in test builds; production bundles compile this out. */
const buildDeps = (): Promise<RecordsDeps> =>
  createRecordsDeps().then((d) =>
    typeof __VEIL_TEST_SWITCHES__ !== "undefined" && __VEIL_TEST_SWITCHES__ === true
      ? withTestSwitches(d, logger)
      : d,
  );

/** API Gateway (REST, proxy integration) entry point of the records API. */
export const handler = createApiHandler({ routes, deps: buildDeps, toHttpError, logger });
