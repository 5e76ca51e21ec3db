/**
 * Images on a real S3-compatible server with versioning and SigV4 (OpenStack Swift with s3api): the
 * signed upload length is enforced by the server, a tampered stored image fails its download cleanly,
 * and `pnpm veil restore-image` brings the last good version back — after an overwrite and after a
 * delete. Canaries are looked for in every object version Swift keeps.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { promisify } from "node:util";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { imageKey, inboxKey, restoreVersion } from "@veil/storage";
import { jpegFixture, startTestSwift, type TestSwift, webpFixture } from "@veil/storage/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpAndSignIn } from "../cognito/index.ts";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import { ephemeralPorts } from "../stack/config.ts";
import { type LocalStack, startLocalStack } from "../stack/start.ts";
import { describeRestore, readS3Info, restoreImage } from "./index.ts";
import { imageClient } from "./testing.ts";

const region = "eu-central-2";
const tag = randomBytes(5).toString("hex");
const keptCanary = `CANARY-SWIFT-${tag}-X`;
const gpsCanary = `CANARY-SWIFT-GPS-${tag}`;

let pgServer: TestPostgres;
let swift: TestSwift;
let stack: LocalStack;
let stateDir: string;
let alice: ReturnType<typeof imageClient>;
let recordId: string;
let ownerId: string;
const fixture = jpegFixture({ keptBytes: Buffer.from(keptCanary), exifText: gpsCanary });
let imageId = "";

beforeAll(async () => {
  [pgServer, swift] = await Promise.all([startTestPostgres(), startTestSwift({ region })]);
  stateDir = mkdtempSync(join(tmpdir(), "veil-images-swift-"));
  stack = await startLocalStack({
    stateDir,
    ports: ephemeralPorts,
    databaseUrl: pgServer.connectionString,
    webRoot: stateDir,
    region,
    s3: { endpoint: swift.endpoint, credentials: swift.credentials, dataDir: swift.dataDir },
  });
  const tokens = await signUpAndSignIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
    email: `alice-${tag}@users.example.net`,
    password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
  });
  alice = imageClient(stack, tokens.accessToken);
  recordId = await alice.createRecord();
  ownerId = JSON.parse(Buffer.from(tokens.accessToken.split(".")[1] as string, "base64url").toString()).sub;
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([pgServer?.stop(), swift?.stop()]);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const stored = () => ({
  bucket: stack.images.s3.info.buckets.images,
  key: imageKey({ ownerId, recordId, imageId }),
});
const download = async () => {
  const res = await alice.download(recordId, imageId);
  return { res, body: Buffer.from(await res.arrayBuffer()) };
};

describe("on a versioned S3 with real signatures", () => {
  it("the buckets keep versions", () => {
    expect(stack.images.s3.info.versioned).toBe(true);
  });

  it("uploads, ingests and downloads byte-identical to the stripped image", async () => {
    const { ticket, image } = await alice.upload(recordId, "image/jpeg", fixture.original);
    imageId = ticket.imageId;
    expect(image.status).toBe("ready");
    const { res, body } = await download();
    expect(res.status).toBe(200);
    expect(body.equals(fixture.stripped)).toBe(true);
  });

  it("the presigned PUT carries exactly the announced length: S3 refuses a longer body", async () => {
    const file = webpFixture().original;
    const ticket = await alice.ticket(recordId, "image/webp", file.length);
    const message = Buffer.from(await alice.encrypt(ticket, file));
    expect(message.length).toBe(ticket.encryption.contentLength);
    expect((await alice.put(ticket, Buffer.concat([message, Buffer.from("x")]))).status).toBe(403);
    expect((await alice.put(ticket, message)).status).toBe(200);
    await stack.images.idle();
    expect(await alice.image(recordId, ticket.imageId)).toMatchObject({ status: "ready" });
  });

  it("a refused upload leaves no version behind in the versioned inbox, nor in the images bucket", async () => {
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
    const { ticket, image } = await alice.upload(recordId, "image/png", gif);
    expect(image).toMatchObject({ status: "rejected", reason: "unsupportedType" });
    const ids = { ownerId, recordId, imageId: ticket.imageId };
    const { inbox, images } = stack.images.s3.info.buckets;
    expect(await stack.images.s3.store.listVersions({ bucket: inbox, key: inboxKey(ids) })).toEqual([]);
    expect(await stack.images.s3.store.listVersions({ bucket: images, key: imageKey(ids) })).toEqual([]);
    // Ingested ones too: their upload is deleted version and all.
    expect(
      await stack.images.s3.store.listVersions({
        bucket: inbox,
        key: inboxKey({ ownerId, recordId, imageId }),
      }),
    ).toEqual([]);
  });

  it("a tampered stored image fails its download with a clear error; restore-image brings it back", async () => {
    const garbage = await stack.images.s3.store.put(stored(), randomBytes(4096));
    const { res, body } = await download();
    expect(res.status).toBe(502);
    expect(JSON.parse(body.toString())).toMatchObject({
      error: "ImageIntegrityError",
      message: expect.stringMatching(/integrity/),
    });

    const result = await restoreImage({
      s3: await readS3Info(stateDir),
      databaseUrl: pgServer.connectionString,
      imageId,
    });
    expect(result.replaced?.versionId).toBe(garbage.versionId);
    expect(result.restoredRecordedVersion).toBe(true);
    expect(describeRestore(result)).toMatch(
      new RegExp(`Restored image ${imageId}: version .* recorded when the image was ingested`),
    );
    const again = await download();
    expect(again.res.status).toBe(200);
    expect(again.body.equals(fixture.stripped)).toBe(true);
  });

  it("a ciphertext of another image moved onto this key is refused as well (context binding)", async () => {
    const other = await alice.upload(recordId, "image/jpeg", jpegFixture({ width: 24 }).original);
    const otherKey = imageKey({ ownerId, recordId, imageId: other.ticket.imageId });
    const { body } = await stack.images.s3.store.open({ bucket: stored().bucket, key: otherKey });
    const moved = await buffer(body);
    await stack.images.s3.store.put(stored(), moved);
    expect((await download()).res.status).toBe(502);
    await restoreImage({ s3: await readS3Info(stateDir), databaseUrl: pgServer.connectionString, imageId });
    expect((await download()).body.equals(fixture.stripped)).toBe(true);
  });

  it("after a delete, `pnpm veil restore-image` (the CLI) says what it restored", {
    timeout: 60_000,
  }, async () => {
    await stack.images.s3.store.delete(stored());
    const gone = await download();
    expect(gone.res.status).toBe(502);
    expect(JSON.parse(gone.body.toString())).toMatchObject({ error: "ImageMissing" });

    const cli = join(import.meta.dirname, "../cli/veil.ts");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", cli, "restore-image", imageId],
      {
        env: { ...process.env, VEIL_STATE_DIR: stateDir },
      },
    );
    expect(stdout).toContain(`Restored image ${imageId}`);
    expect(stdout).toContain("It had been deleted");
    expect((await download()).body.equals(fixture.stripped)).toBe(true);
  });

  it("erasing a record removes its stored images: no longer current, restorable until the retention ends", async () => {
    const erased = await alice.createRecord();
    const uploads = [
      await alice.upload(erased, "image/jpeg", jpegFixture({ width: 20 }).original),
      await alice.upload(erased, "image/webp", webpFixture().original),
    ];
    const locations = uploads.map((u) => {
      expect(u.image.status).toBe("ready");
      return {
        bucket: stack.images.s3.info.buckets.images,
        key: imageKey({ ownerId, recordId: erased, imageId: u.ticket.imageId }),
      };
    });
    for (const at of locations) expect(await stack.images.s3.store.head(at)).toBeDefined();

    expect((await alice.api(`/api/records/${erased}`, { method: "DELETE" })).status).toBe(204);
    await stack.images.cleanUp();

    const db = new pg.Client({ connectionString: pgServer.connectionString });
    await db.connect();
    try {
      const ids = uploads.map((u) => u.ticket.imageId);
      const left = await db.query(
        `SELECT (SELECT count(*) FROM images WHERE record_id = $1)::int AS rows,
                (SELECT count(*) FROM image_object_deletions WHERE image_id = ANY($2::uuid[]))::int AS queued`,
        [erased, ids],
      );
      expect(left.rows[0]).toEqual({ rows: 0, queued: 0 });
    } finally {
      await db.end();
    }
    for (const at of locations) {
      // Not current any more: a delete marker on top, the image's version kept underneath.
      expect(await stack.images.s3.store.head(at)).toBeUndefined();
      const versions = await stack.images.s3.store.listVersions(at);
      expect(versions[0]).toMatchObject({ isLatest: true, isDeleteMarker: true });
      expect(versions.filter((v) => !v.isDeleteMarker)).toHaveLength(1);
    }
    // Within the retention an operator can still bring an object back (e.g. after restoring the
    // database to before an erasure made by mistake).
    const restored = await restoreVersion(stack.images.s3.store, locations[0]!);
    expect(restored.replaced?.isDeleteMarker).toBe(true);
    expect(await stack.images.s3.store.head(locations[0]!)).toBeDefined();
    // The record is gone for its owner, and so are its images.
    expect((await alice.api(`/api/records/${erased}/images`)).status).toBe(404);
  });

  it("no canary in any object version Swift keeps, the database or a log", async () => {
    const versions = await stack.images.s3.store.listVersions(stored());
    expect(versions.length).toBeGreaterThanOrEqual(5);
    const canaries = { kept: keptCanary, gps: gpsCanary };
    const hits = [
      ...(await scanDatabase(pgServer.connectionString, canaries)),
      ...(await scanFiles([stateDir, swift.dataDir], canaries)),
    ];
    expect(hits).toEqual([]);
    // The scan has teeth: a clear object written next to the images is found in Swift's files.
    const probe = `CANARY-PROBE-${tag}`;
    const probeAt = { bucket: stored().bucket, key: `probe/${tag}` };
    const written = await stack.images.s3.store.put(probeAt, Buffer.from(`clear ${probe} bytes`));
    expect((await scanFiles([swift.dataDir], { probe })).length).toBeGreaterThan(0);
    await stack.images.s3.store.delete(probeAt, written.versionId);
  });
});
