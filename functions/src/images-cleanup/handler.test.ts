import { randomBytes, randomUUID } from "node:crypto";
import { createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { createObjectStore, imageKey, type ObjectStore, StorageUnavailableError } from "@veil/storage";
import { startTestS3rver, type TestS3rver } from "@veil/storage/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pool } from "../shared/database.ts";
import { type CleanupDeps, cleanUpErasedImages } from "./handler.ts";

let pg: TestPostgres;
let s3: TestS3rver;
let pool: Pool;
let store: ObjectStore;
let deps: CleanupDeps;

beforeAll(async () => {
  pg = await startTestPostgres();
  pool = createPool({ connectionString: pg.connectionString, max: 4 });
  await migrate(pool);
  s3 = await startTestS3rver({ buckets: ["images"] });
  store = createObjectStore({ region: s3.region, endpoint: s3.endpoint, credentials: s3.credentials });
  deps = { pool, store, imagesBucket: "images" };
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await s3?.stop();
  await pg?.stop();
});

/** A record with `count` ready images whose (stand-in) objects are in the bucket. */
async function recordWithStoredImages(count: number) {
  const ownerId = `owner-${randomBytes(4).toString("hex")}`;
  const recordId = records.newRecordId();
  await records.insert(pool, { id: recordId, ownerId, category: "general", ciphertext: Buffer.from([1]) });
  const locations = [];
  for (let i = 0; i < count; i++) {
    const image = await images.createPending(pool, {
      id: randomUUID(),
      ownerId,
      recordId,
      contentType: "image/png",
      declaredSize: 3,
      uploadExpiresAt: new Date(Date.now() + 300_000),
    });
    const location = { bucket: "images", key: imageKey({ ownerId, recordId, imageId: image.id }) };
    const put = await store.put(location, Buffer.from("enc"));
    await images.markReady(pool, {
      id: image.id,
      ownerId,
      contentType: "image/png",
      size: 3,
      objectVersion: put.versionId ?? null,
    });
    locations.push({ imageId: image.id, location });
  }
  // A pending image has no object; erasing must not touch anything for it.
  await images.createPending(pool, {
    id: randomUUID(),
    ownerId,
    recordId,
    contentType: "image/png",
    declaredSize: 3,
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  return { ownerId, recordId, locations };
}

const queued = async (imageIds: string[]) =>
  (
    await pool.query<{ image_id: string; attempts: number }>(
      "SELECT image_id, attempts FROM image_object_deletions WHERE image_id = ANY($1::uuid[])",
      [imageIds],
    )
  ).rows;

describe("image cleanup after a record is erased", () => {
  it("deletes every stored object of the erased record and empties the queue", async () => {
    const r = await recordWithStoredImages(3);
    const kept = await recordWithStoredImages(1);
    await records.remove(pool, { id: r.recordId, ownerId: r.ownerId });
    const ids = r.locations.map((l) => l.imageId);
    expect((await queued(ids)).map((q) => q.image_id).sort()).toEqual([...ids].sort());

    const result = await cleanUpErasedImages(deps);
    expect(result.failed).toBe(0);
    expect(result.deleted).toBeGreaterThanOrEqual(3);
    for (const l of r.locations) expect(await store.head(l.location)).toBeUndefined();
    expect(await queued(ids)).toEqual([]);
    // Another record's images are untouched.
    expect(await store.head(kept.locations[0]!.location)).toBeDefined();
    // Nothing left: a second run does nothing.
    expect(await cleanUpErasedImages(deps)).toEqual({ deleted: 0, failed: 0 });
  });

  it("keeps what S3 refused queued, counts the attempt, and finishes on the next run", async () => {
    const r = await recordWithStoredImages(2);
    await records.remove(pool, { id: r.recordId, ownerId: r.ownerId });
    const [bad, good] = r.locations as [(typeof r.locations)[0], (typeof r.locations)[0]];
    const flaky: CleanupDeps = {
      ...deps,
      store: {
        delete: (location, versionId) =>
          location.key === bad.location.key
            ? Promise.reject(new StorageUnavailableError("DeleteObject", "SlowDown"))
            : store.delete(location, versionId),
      },
    };
    expect(await cleanUpErasedImages(flaky)).toMatchObject({ failed: 1 });
    expect(await store.head(good.location)).toBeUndefined();
    expect(await store.head(bad.location)).toBeDefined();
    expect(await queued([bad.imageId, good.imageId])).toEqual([{ image_id: bad.imageId, attempts: 1 }]);

    expect(await cleanUpErasedImages(deps)).toMatchObject({ failed: 0 });
    expect(await store.head(bad.location)).toBeUndefined();
    expect(await queued([bad.imageId])).toEqual([]);
  });

  it("an erasure rolled back queues nothing", async () => {
    const r = await recordWithStoredImages(1);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await records.remove(client, { id: r.recordId, ownerId: r.ownerId });
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    await cleanUpErasedImages(deps);
    expect(await store.head(r.locations[0]!.location)).toBeDefined();
    expect(await queued([r.locations[0]!.imageId])).toEqual([]);
  });
});
