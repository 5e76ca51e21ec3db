/**
 * `DELETE /api/account` — erasure of everything of the caller, in an order that a retry can always
 * finish, each step idempotent and failing closed (a 5xx with the request id, nothing reported done
 * that is not):
 *
 * 1. Inbox: a delete marker on the upload key of every pending image of the caller (the others have no
 *    upload left: the ingest deletes it when it decides an image), each then marked rejected so that a
 *    retry skips it. At most a bounded number per call: beyond it the call answers 503 with
 *    Retry-After, and the repeated request continues. Before the database, because afterwards the
 *    rows naming the keys are gone.
 * 2. Database, one transaction (`account.erase` of @veil/db): records, image rows (their stored
 *    objects queued by trigger), idempotency keys; the audit trail made non-identifying; the user's
 *    proof sessions turned into anonymous revocation markers, so a token issued before (valid offline
 *    until it expires) is refused from now on, this one included: a retry needs a fresh sign-in.
 * 3. Images bucket: a delete marker on the caller's queued objects, removed from the queue as S3
 *    confirms, a bounded number per call. What fails stays queued and answers 503 (a retry finishes
 *    it); what is left over the bound, the scheduled image cleanup finishes.
 * 4. Cognito: `DeleteUser` with the caller's own access token. After the data, so that until the data
 *    is gone the user can still sign in and retry.
 * 5. Database: the user revoked as a whole (`proofs.revokeSubject`: a hash of the id, kept until no
 *    token can be valid), so a token of a sign-in that never made a request is refused as well. Only
 *    now, since it also refuses a fresh sign-in, which a retry of step 4 needs.
 * 6. Database and images bucket again (steps 2 and 3, idempotent): whatever was written between step 2
 *    and step 5 is erased too. Left open: a request past its proof check that commits after this.
 *
 * Noncurrent versions stay for the buckets' lifecycle (docs/erasure.md says how long).
 */
import { headers as headerNames } from "@veil/core";
import { type AccountErasure, account, imageDeletions, images, proofs, withTransaction } from "@veil/db";
import { imageKey, inboxKey, type ObjectLocation, StorageUnavailableError } from "@veil/storage";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { ApiDeps, ApiRouteInput } from "../shared/api-handler.ts";
import type { Pool } from "../shared/database.ts";
import { HttpError, UnauthorizedError } from "../shared/errors.ts";
import { header, json } from "../shared/http.ts";

/** What the erasure needs. */
export interface AccountDeps extends ApiDeps {
  readonly pool: Pool;
  readonly store: { delete(location: ObjectLocation): Promise<void> };
  readonly buckets: { readonly images: string; readonly inbox: string };
  readonly cognito: { deleteUser(input: { AccessToken: string }): Promise<"deleted" | "absent"> };
}

/** What one erasure did: counts only. */
export interface ErasureReport extends AccountErasure {
  /** Inbox keys given a delete marker. */
  readonly inboxObjects: number;
  /** Stored image objects given a delete marker (now, including ones queued by earlier record deletes). */
  readonly imageObjects: number;
  readonly user: "deleted" | "absent";
}

/**
 * S3 deletes in flight at once, queue rows claimed per transaction, and the per-call bounds that keep
 * one call well inside the function's timeout however large the account: what is left is picked up by
 * the next call (inbox) or the scheduled image cleanup (stored images).
 */
const parallel = 8;
const batch = 200;
const inboxPerCall = 400;
const drainBatchesPerCall = 2;

/** Deletes every location; resolves with the ones that failed (their delete can be retried). */
async function deleteAll<T>(items: readonly T[], at: (item: T) => ObjectLocation, deps: AccountDeps) {
  const failed: T[] = [];
  for (let i = 0; i < items.length; i += parallel) {
    const slice = items.slice(i, i + parallel);
    const results = await Promise.allSettled(slice.map((item) => deps.store.delete(at(item))));
    results.forEach((r, j) => {
      if (r.status === "rejected") failed.push(slice[j] as T);
    });
  }
  return failed;
}

const unavailable = (what: string) => new StorageUnavailableError(what, "EraseIncomplete");

/**
 * Step 1, bounded: a delete marker on the upload of up to `inboxPerCall` pending images, each then
 * marked rejected so that a retry skips it (and the ingest drops a later upload); with the API's own
 * reason `expired`, since until the record goes an image list may still show it. Ready and rejected
 * images have no upload left: the ingest deleted it when it decided them.
 */
async function dropUploads(deps: AccountDeps, ownerId: string): Promise<number> {
  const pending = await images.pendingForOwner(deps.pool, ownerId, inboxPerCall + 1);
  const now = pending.slice(0, inboxPerCall);
  const failed = new Set(
    await deleteAll(
      now,
      (u) => ({
        bucket: deps.buckets.inbox,
        key: inboxKey({ ownerId, recordId: u.recordId, imageId: u.id }),
      }),
      deps,
    ),
  );
  const done = now.filter((u) => !failed.has(u));
  await images.markRejectedMany(
    deps.pool,
    ownerId,
    done.map((u) => u.id),
    "expired",
  );
  if (failed.size > 0) throw unavailable("DeleteObject");
  if (pending.length > now.length) {
    throw new HttpError(503, "Unavailable", "The erasure is under way; repeat the request", undefined, 1);
  }
  return done.length;
}

/**
 * Steps 3 and 6, bounded: deletes up to `drainBatchesPerCall` batches of the owner's queued stored
 * images, removing each from the queue as S3 confirms. What fails or is left stays queued for the
 * scheduled image cleanup.
 */
async function drainImages(deps: AccountDeps, ownerId: string) {
  let done = 0;
  let failed = 0;
  let more = false;
  for (let i = 0; i < drainBatchesPerCall; i++) {
    const round = await withTransaction(deps.pool, async (tx) => {
      const due = await imageDeletions.claimForOwner(tx, ownerId, batch);
      const failures = await deleteAll(
        due,
        (d) => ({
          bucket: deps.buckets.images,
          key: imageKey({ ownerId, recordId: d.recordId, imageId: d.imageId }),
        }),
        deps,
      );
      const failedIds = new Set(failures.map((f) => f.imageId));
      await imageDeletions.complete(
        tx,
        due.filter((d) => !failedIds.has(d.imageId)).map((d) => d.imageId),
      );
      await imageDeletions.recordFailure(tx, [...failedIds]);
      return { claimed: due.length, done: due.length - failedIds.size, failed: failedIds.size };
    });
    done += round.done;
    failed += round.failed;
    more = round.claimed === batch;
    if (round.failed > 0 || !more) break;
  }
  return { done, failed, more };
}

/** The bearer token of the identity header (already verified by `verifyCaller`). */
function accessToken(event: APIGatewayProxyEvent): string {
  const token = header(event, headerNames.identity)?.match(/^Bearer ([A-Za-z0-9_.-]+)$/)?.[1];
  if (!token) throw new UnauthorizedError();
  return token;
}

/** Erases the caller's data and Cognito user (the steps above); throws on the first step that fails. */
export async function eraseAccount(
  deps: AccountDeps,
  ownerId: string,
  token: string,
): Promise<ErasureReport> {
  const inboxObjects = await dropUploads(deps, ownerId);

  const erased = await withTransaction(deps.pool, (tx) => account.erase(tx, ownerId));

  const drained = await drainImages(deps, ownerId);
  if (drained.failed > 0) throw unavailable("DeleteObject");

  let user: "deleted" | "absent";
  try {
    user = await deps.cognito.deleteUser({ AccessToken: token });
  } catch (err) {
    // A token Cognito no longer accepts (revoked, expired meanwhile): the user must sign in again.
    if ((err as { name?: unknown }).name === "NotAuthorizedException") throw new UnauthorizedError();
    throw new HttpError(503, "Unavailable", "A dependency is unavailable; try again shortly", undefined, 2);
  }
  await proofs.revokeSubject(deps.pool, ownerId);
  // Until the line above, a new sign-in, or a request that passed its proof check before step 2, could
  // still write: erase once more. Its stored images over the bound or failing stay queued for the
  // scheduled cleanup (a retry is no longer possible), an upload without its row is dropped by the ingest.
  const late = await withTransaction(deps.pool, (tx) => account.erase(tx, ownerId));
  // The first drain's bound holds for the call: when it left objects queued, the cleanup has them all.
  const lateImages = drained.more ? { done: 0 } : await drainImages(deps, ownerId);
  return {
    records: erased.records + late.records,
    images: erased.images + late.images,
    idempotencyKeys: erased.idempotencyKeys + late.idempotencyKeys,
    auditEvents: erased.auditEvents + late.auditEvents,
    inboxObjects,
    imageObjects: drained.done + lateImages.done,
    user,
  };
}

/** The route: erases, then answers the counts (no ids). */
export async function eraseAccountRoute({
  deps,
  caller,
  event,
  requestId,
}: ApiRouteInput<AccountDeps>): Promise<APIGatewayProxyResult> {
  const report = await eraseAccount(deps, caller.sub, accessToken(event));
  return json(200, { erased: report }, requestId);
}
