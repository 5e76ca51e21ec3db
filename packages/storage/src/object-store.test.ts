import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { CreateBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageRejectedError, RestoreError } from "./errors.ts";
import { createObjectStore, type ObjectStore } from "./object-store.ts";
import { chooseVersion, restoreVersion } from "./restore.ts";
import { startTestS3rver, type TestS3rver } from "./testing/s3rver.ts";
import { startTestSwift, type TestSwift } from "./testing/swift.ts";

const MiB = 1024 * 1024;

/** `total` pseudo-random bytes in 64 KiB chunks, generated lazily; `fail` makes it error midway. */
function generated(total: number, fail?: Error) {
  const hash = createHash("sha256");
  const base = randomBytes(64 * 1024);
  let sent = 0;
  const source = new Readable({
    read() {
      if (fail && sent >= total / 2) return void this.destroy(fail);
      if (sent >= total) return void this.push(null);
      const piece = Buffer.from(base.subarray(0, Math.min(base.length, total - sent)));
      piece.writeUInt32BE(sent, 0);
      sent += piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
  return { source, digest: () => hash.digest("hex") };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function suite(
  name: string,
  setup: () => Promise<{ store: ObjectStore; bucket: string; versioned: boolean }>,
) {
  describe(name, () => {
    let store: ObjectStore;
    let bucket: string;
    let versioned: boolean;
    beforeAll(async () => {
      ({ store, bucket, versioned } = await setup());
    }, 60_000);
    const at = (key: string) => ({ bucket, key });

    it("writes and reads bytes; a missing object is undefined / not found", async () => {
      await store.put(at("small"), Buffer.from("hello"));
      const opened = await store.open(at("small"));
      expect((await buffer(opened.body)).toString()).toBe("hello");
      expect(await store.head(at("missing"))).toBeUndefined();
      await expect(store.open(at("missing"))).rejects.toMatchObject({ name: "ObjectNotFoundError" });
    });

    it("streams 13 MiB through a multipart upload and back, byte-identical", {
      timeout: 60_000,
    }, async () => {
      const { source, digest } = generated(13 * MiB);
      const stored = await store.upload(at("big"), source);
      expect(stored.size).toBe(13 * MiB);
      if (versioned) expect(stored.versionId).toMatch(/./);
      const back = await buffer((await store.open(at("big"))).body);
      expect(sha(back)).toBe(digest());
    });

    it("a body that fails midway leaves no object, and its error passes through", async () => {
      const { source } = generated(11 * MiB, new ImageRejectedError("corrupt", "test"));
      await expect(store.upload(at("failed"), source)).rejects.toBeInstanceOf(ImageRejectedError);
      expect(await store.head(at("failed"))).toBeUndefined();
    });

    it("deleting a version removes it for good; deleting nothing succeeds", async () => {
      const v = await store.put(at("gone"), Buffer.from("x"));
      await store.delete(at("gone"), v.versionId);
      expect(await store.listVersions(at("gone"))).toEqual([]);
      await store.delete(at("never-there"));
    });

    it("presigned PUT with a signed length", async () => {
      const { url, headers } = await store.presignPut(at("presigned"), {
        expiresInSeconds: 60,
        contentLength: 5,
      });
      expect(headers).toEqual({ "content-length": "5" });
      expect((await fetch(url, { method: "PUT", body: "12345" })).status).toBe(200);
      expect((await buffer((await store.open(at("presigned"))).body)).toString()).toBe("12345");
      const longer = await fetch(url, { method: "PUT", body: "123456" });
      // A real S3 (and Swift) refuses another length; s3rver checks no signature at all.
      expect(longer.status).toBe(versioned ? 403 : 200);
    });
  });
}

let s3rver: TestS3rver;
let swift: TestSwift;
afterAll(async () => {
  await s3rver?.stop();
  await swift?.stop();
});

suite("object store on s3rver (no versioning)", async () => {
  s3rver = await startTestS3rver({ buckets: ["objects"] });
  const store = createObjectStore({
    region: s3rver.region,
    endpoint: s3rver.endpoint,
    credentials: s3rver.credentials,
    partSize: 5 * MiB,
  });
  expect(await store.isVersioned("objects")).toBe(false);
  return { store, bucket: "objects", versioned: false };
});

suite("object store on Swift (versioned)", async () => {
  swift = await startTestSwift();
  const store = createObjectStore({
    region: swift.region,
    endpoint: swift.endpoint,
    credentials: swift.credentials,
    partSize: 5 * MiB,
  });
  await store.client.send(new CreateBucketCommand({ Bucket: "objects" }));
  await store.client.send(
    new PutBucketVersioningCommand({ Bucket: "objects", VersioningConfiguration: { Status: "Enabled" } }),
  );
  expect(await store.isVersioned("objects")).toBe(true);
  return { store, bucket: "objects", versioned: true };
});

describe("restoring a version (Swift)", () => {
  let store: ObjectStore;
  beforeAll(async () => {
    swift ??= await startTestSwift();
    store = createObjectStore({
      region: swift.region,
      endpoint: swift.endpoint,
      credentials: swift.credentials,
    });
    await store.client.send(new CreateBucketCommand({ Bucket: "restore" })).catch(() => undefined);
    await store.client.send(
      new PutBucketVersioningCommand({ Bucket: "restore", VersioningConfiguration: { Status: "Enabled" } }),
    );
  }, 60_000);
  const read = async (key: string) =>
    (await buffer((await store.open({ bucket: "restore", key })).body)).toString();

  it("after an overwrite, the previous version comes back", async () => {
    const at = { bucket: "restore", key: "a/overwritten" };
    const good = await store.put(at, Buffer.from("good"));
    await store.put(at, Buffer.from("garbage"));
    const result = await restoreVersion(store, at);
    expect(result.restored.versionId).toBe(good.versionId);
    expect(result.replaced?.isDeleteMarker).toBe(false);
    expect(await read(at.key)).toBe("good");
    // The garbage is still there as a version: a restore can be undone.
    expect((await store.listVersions(at)).length).toBe(3);
  });

  it("after a delete, the deleted version comes back", async () => {
    const at = { bucket: "restore", key: "a/deleted" };
    const good = await store.put(at, Buffer.from("kept"));
    await store.delete(at);
    expect(await store.head(at)).toBeUndefined();
    const result = await restoreVersion(store, at);
    expect(result.replaced?.isDeleteMarker).toBe(true);
    expect(result.restored.versionId).toBe(good.versionId);
    expect(await read(at.key)).toBe("kept");
  });

  it("prefers the recorded version, or exactly the one asked for", async () => {
    const at = { bucket: "restore", key: "a/several" };
    const v1 = await store.put(at, Buffer.from("one"));
    const v2 = await store.put(at, Buffer.from("two"));
    await store.put(at, Buffer.from("three"));
    await restoreVersion(store, at, { preferVersionId: v1.versionId as string });
    expect(await read(at.key)).toBe("one");
    await restoreVersion(store, at, { versionId: v2.versionId as string });
    expect(await read(at.key)).toBe("two");
    await expect(restoreVersion(store, at, { versionId: "no-such" })).rejects.toBeInstanceOf(RestoreError);
  });
});

describe("choosing the version to restore", () => {
  const v = (id: string, latest = false, marker = false) => ({
    versionId: id,
    isLatest: latest,
    isDeleteMarker: marker,
    lastModified: undefined,
    size: marker ? undefined : 1,
    eTag: undefined,
  });
  it("never picks a delete marker or the latest version", () => {
    expect(chooseVersion([v("m", true, true), v("b"), v("a")]).versionId).toBe("b");
    expect(() => chooseVersion([v("a", true)])).toThrow(RestoreError);
    expect(() => chooseVersion([v("a", true), v("m", false, true)], { versionId: "m" })).toThrow(
      /delete marker/,
    );
    expect(() => chooseVersion([v("a", true), v("b")], { preferVersionId: "a" })).toThrow(
      /already the latest/,
    );
  });
});
