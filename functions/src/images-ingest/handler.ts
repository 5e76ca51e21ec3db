/**
 * The ingest function: triggered by the inbox bucket's `s3:ObjectCreated:*` notifications (prefix
 * `inbox/`), in AWS and — with the same event records — in the local stack. Runs `ingestUpload` per
 * record; throws if any failed transiently, so Lambda's asynchronous retries run it again.
 */
import { createPublicKey } from "node:crypto";
import { createLogger } from "@veil/log";
import type { Context, S3Event } from "aws-lambda";
import { envelope, objectStore, once, uploadDecryptKeys } from "../images/deps.ts";
import { databasePool } from "../shared/database.ts";
import { linked } from "../shared/resources.ts";
import { type IngestDeps, ingestUpload } from "./ingest-pipeline.ts";

const logger = createLogger({ serviceName: "veil-images-ingest" });

const deps = once(async (): Promise<IngestDeps> => {
  const keys = await uploadDecryptKeys();
  const bits = createPublicKey(keys[0]?.privateKeyPem ?? "").asymmetricKeyDetails?.modulusLength ?? 0;
  return {
    pool: await databasePool(),
    store: objectStore(),
    envelope: envelope(),
    keys,
    modulusBytes: bits / 8,
    inboxBucket: linked("InboxBucket").name,
    imagesBucket: linked("ImagesBucket").name,
  };
});

/** S3 event keys are URL-encoded, with `+` for a space. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

export async function handler(event: S3Event, context: Context): Promise<void> {
  const d = await deps();
  let transient = 0;
  for (const record of event.Records ?? []) {
    if (!record.eventName?.startsWith("ObjectCreated:")) continue;
    const started = Date.now();
    const object = record.s3.object;
    try {
      const result = await ingestUpload(d, {
        bucket: record.s3.bucket.name,
        key: decodeS3Key(object.key),
        size: object.size,
        ...(object.versionId ? { versionId: object.versionId } : {}),
        ...(object.eTag ? { eTag: object.eTag } : {}),
        eventTime: record.eventTime,
      });
      const line = { ...result, ms: Date.now() - started, awsRequestId: context.awsRequestId };
      if (result.outcome === "ready") logger.info("image stored", line);
      else logger.warn(`upload ${result.outcome}`, line);
    } catch (err) {
      transient++;
      logger.error("ingest failed; will be retried", {
        error: err instanceof Error ? err.name : "unknown",
        ms: Date.now() - started,
        awsRequestId: context.awsRequestId,
      });
    }
  }
  if (transient > 0) throw new Error(`${transient} upload(s) failed transiently`);
}
