/**
 * The account function: `DELETE /api/account` (./erase.ts). Its own function, not a route of the
 * records one, for least privilege both ways: it may delete objects in both image buckets and delete
 * the Cognito user (with the user's own token), but holds no KMS right, no FLE key and no idempotency
 * secret; the records function keeps no S3 right at all.
 */

import { createCognitoUserClient } from "@veil/aws";
import type { AccountRouteKey } from "@veil/core";
import { createLogger } from "@veil/log";
import { objectStore, once } from "../images/deps.ts";
import { type ApiRoute, createApiHandler } from "../shared/api-handler.ts";
import { linkedCallerVerifier } from "../shared/caller.ts";
import { databasePool } from "../shared/database.ts";
import { toHttpError } from "../shared/errors.ts";
import { linked } from "../shared/resources.ts";
import { answerSealer } from "../shared/sealing.ts";
import { type AccountDeps, eraseAccountRoute } from "./erase.ts";

const logger = createLogger({ serviceName: "veil-account" });

const deps = once(async (): Promise<AccountDeps> => {
  const pool = await databasePool();
  return {
    pool,
    verifyCaller: linkedCallerVerifier(pool),
    sealer: answerSealer,
    store: objectStore(),
    buckets: { images: linked("ImagesBucket").name, inbox: linked("InboxBucket").name },
    cognito: createCognitoUserClient(),
  };
});

/** The implementation of each route of `accountRoutes` (core). */
export const routes: Readonly<Record<AccountRouteKey, ApiRoute<AccountDeps>>> = {
  "DELETE /api/account": eraseAccountRoute,
};

/** API Gateway (REST, proxy integration) entry point of the account API. */
export const handler = createApiHandler({ routes, deps, toHttpError, logger });
