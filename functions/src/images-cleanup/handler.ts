/**
 * The image cleanup: deletes from the images bucket the stored objects of erased records. Erasing a
 * record (records function, `DELETE /api/records/{id}`) deletes its image rows in the same transaction,
 * and a database trigger queues the object of each ready image (`image_object_deletions`); this
 * function, run on a schedule (infra: every 5 minutes; the local stack: every few seconds), empties the
 * queue. The records function thereby needs no S3 right and no S3 client, and an erasure can neither
 * forget an object nor be half-done: until S3 confirms a delete, the object stays queued and the next
 * run tries again (failed attempts are counted; a run with failures ends in an error, so Lambda's
 * `Errors` metric raises the alarm).
 *
 * A delete puts a delete marker on the versioned bucket: the object is no longer current, its version
 * expires with the bucket's lifecycle (the stage's retention) and can be restored until then.
 */
import { type ImageObjectDeletion, imageDeletions, withTransaction } from "@veil/db";
import { createLogger } from "@veil/log";
import { imageKey, type ObjectStore } from "@veil/storage";
import type { Context } from "aws-lambda";
import { objectStore, once } from "../images/deps.ts";
import { databasePool, type Pool } from "../shared/database.ts";
import { linked } from "../shared/resources.ts";

const logger = createLogger({ serviceName: "veil-images-cleanup" });

/** What the cleanup needs. */
export interface CleanupDeps {
  readonly pool: Pool;
  readonly store: Pick<ObjectStore, "delete">;
  readonly imagesBucket: string;
}

/** What one run did. */
export interface CleanupResult {
  /** Objects deleted (delete marker placed) and removed from the queue. */
  readonly deleted: number;
  /** Objects whose delete failed: still queued, their attempts counted. */
  readonly failed: number;
}

/** Queue rows claimed per transaction, and S3 deletes in flight at once. */
const batchSize = 50;
const parallel = 8;

async function deleteObjects(deps: CleanupDeps, due: readonly ImageObjectDeletion[]) {
  const done: string[] = [];
  const failed: string[] = [];
  for (let i = 0; i < due.length; i += parallel) {
    const slice = due.slice(i, i + parallel);
    const results = await Promise.allSettled(
      slice.map((d) =>
        deps.store.delete({
          bucket: deps.imagesBucket,
          key: imageKey({ ownerId: d.ownerId, recordId: d.recordId, imageId: d.imageId }),
        }),
      ),
    );
    slice.forEach((d, j) => {
      (results[j]?.status === "fulfilled" ? done : failed).push(d.imageId);
    });
  }
  return { done, failed };
}

/**
 * Empties the queue, a batch per transaction (the claimed rows stay locked while their objects are
 * deleted, so concurrent runs share the work). Stops after a batch with a failure (S3 is probably
 * unwell: the next run retries) or when the queue is empty, or after `maxBatches`.
 */
export async function cleanUpErasedImages(deps: CleanupDeps, maxBatches = 20): Promise<CleanupResult> {
  let deleted = 0;
  let failedTotal = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const outcome = await withTransaction(deps.pool, async (tx) => {
      const due = await imageDeletions.claim(tx, batchSize);
      const { done, failed } = await deleteObjects(deps, due);
      await imageDeletions.complete(tx, done);
      await imageDeletions.recordFailure(tx, failed);
      return { claimed: due.length, done: done.length, failed: failed.length };
    });
    deleted += outcome.done;
    failedTotal += outcome.failed;
    if (outcome.failed > 0 || outcome.claimed < batchSize) break;
  }
  return { deleted, failed: failedTotal };
}

const deps = once(
  async (): Promise<CleanupDeps> => ({
    pool: await databasePool(),
    store: objectStore(),
    imagesBucket: linked("ImagesBucket").name,
  }),
);

/** The scheduled entry point (EventBridge in AWS, a timer in the local stack). */
export async function handler(_event: unknown, context: Context): Promise<CleanupResult> {
  const started = Date.now();
  const result = await cleanUpErasedImages(await deps());
  const line = { ...result, ms: Date.now() - started, awsRequestId: context.awsRequestId };
  if (result.failed > 0) {
    logger.error("image cleanup incomplete; will be retried", line);
    throw new Error(`${result.failed} stored image object(s) could not be deleted`);
  }
  if (result.deleted > 0) logger.info("stored images of erased records deleted", line);
  return result;
}
