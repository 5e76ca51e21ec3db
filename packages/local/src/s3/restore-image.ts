import { createPool, images } from "@veil/db";
import { createObjectStore, imageKey, type RestoreResult, restoreVersion } from "@veil/storage";
import type { LocalS3Info } from "./server.ts";

/** What `restoreImage` did, in words an operator can act on. */
export interface ImageRestore extends RestoreResult {
  readonly imageId: string;
  readonly bucket: string;
  readonly key: string;
  /** True when the version restored is the one the ingest recorded for the image. */
  readonly restoredRecordedVersion: boolean;
}

/**
 * Restores the stored object of an image to an earlier version after it was overwritten or deleted:
 * the version the ingest recorded (unless `versionId` names another), else the newest older one. Only
 * ciphertext is copied: this needs S3 rights on the images bucket, never the KMS key.
 */
export async function restoreImage(options: {
  readonly s3: LocalS3Info;
  readonly databaseUrl: string;
  readonly imageId: string;
  readonly versionId?: string;
}): Promise<ImageRestore> {
  const pool = createPool({ connectionString: options.databaseUrl, max: 1 });
  let row: Awaited<ReturnType<typeof images.getById>>;
  try {
    row = await images.getById(pool, options.imageId);
  } finally {
    await pool.end();
  }
  if (!row) throw new Error(`No image ${options.imageId}.`);
  if (row.status !== "ready")
    throw new Error(`Image ${options.imageId} is ${row.status}: it has no stored object.`);
  if (!options.s3.versioned) {
    throw new Error(
      "This S3 store keeps no versions (the embedded s3rver): there is nothing to restore from.",
    );
  }
  const store = createObjectStore({
    region: options.s3.region,
    endpoint: options.s3.endpoint,
    credentials: options.s3.credentials,
  });
  const location = {
    bucket: options.s3.buckets.images,
    key: imageKey({ ownerId: row.ownerId, recordId: row.recordId, imageId: row.id }),
  };
  const result = await restoreVersion(store, location, {
    ...(options.versionId ? { versionId: options.versionId } : {}),
    ...(row.objectVersion ? { preferVersionId: row.objectVersion } : {}),
  });
  return {
    ...result,
    imageId: row.id,
    ...location,
    restoredRecordedVersion: result.restored.versionId === row.objectVersion,
  };
}

/** One paragraph saying what was restored. */
export function describeRestore(r: ImageRestore): string {
  const when = r.restored.lastModified ? ` written ${r.restored.lastModified.toISOString()}` : "";
  const replaced = r.replaced
    ? r.replaced.isDeleteMarker
      ? `It had been deleted (delete marker ${r.replaced.versionId}).`
      : `It replaces version ${r.replaced.versionId} (${r.replaced.size ?? "?"} bytes), which stays in the bucket's history.`
    : "";
  return [
    `Restored image ${r.imageId}: version ${r.restored.versionId}${when}, ${r.restored.size ?? "?"} bytes${
      r.restoredRecordedVersion ? " — the version recorded when the image was ingested" : ""
    }.`,
    replaced,
    `It is now the latest version (${r.newVersionId ?? "unversioned"}) of s3://${r.bucket}/${r.key}.`,
    "Only ciphertext was copied; the next download checks it end to end.",
  ]
    .filter(Boolean)
    .join("\n");
}
