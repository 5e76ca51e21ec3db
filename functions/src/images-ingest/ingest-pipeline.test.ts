import { randomBytes, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { createEnvelopeCrypto } from "@veil/crypto";
import { createKmsStandIn, generateFleKeyPair } from "@veil/crypto/testing";
import { audit, createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import {
  createObjectStore,
  encryptUpload,
  imageEnvelopeContext,
  imageKey,
  inboxKey,
  type ObjectStore,
  uploadEncryptionContext,
} from "@veil/storage";
import { jpegFixture, pdfFixture, startTestS3rver, type TestS3rver } from "@veil/storage/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pool } from "../shared/database.ts";
import { type IngestDeps, ingestUpload } from "./ingest-pipeline.ts";

const names = { providerId: "veil-test-fle", keyName: "veil-test-key" };
const pair = generateFleKeyPair();
const publicKey = { pem: pair.publicKeyPem, ...names };
const kms = createKmsStandIn();
const envelope = createEnvelopeCrypto({
  app: "veil",
  stage: "test",
  kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
});

let pg: TestPostgres;
let s3: TestS3rver;
let pool: Pool;
let store: ObjectStore;
let deps: IngestDeps;

beforeAll(async () => {
  pg = await startTestPostgres();
  pool = createPool({ connectionString: pg.connectionString, max: 2 });
  await migrate(pool);
  s3 = await startTestS3rver({ buckets: ["inbox", "images"] });
  store = createObjectStore({ region: s3.region, endpoint: s3.endpoint, credentials: s3.credentials });
  deps = {
    pool,
    store,
    envelope,
    keys: [{ ...names, privateKeyPem: pair.privateKeyPem }],
    modulusBytes: 256,
    inboxBucket: "inbox",
    imagesBucket: "images",
  };
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await s3?.stop();
  await pg?.stop();
});

/** A record, a pending image announcing `declared` bytes of `type`, and `bytes` encrypted into the inbox. */
async function upload(
  bytes: Buffer,
  options: {
    type?: "image/jpeg" | "application/pdf";
    declared?: number;
    contextFor?: string;
    raw?: Buffer;
    frameLength?: number;
    /** Changes the encrypted message before it is put. */
    mutate?: (message: Buffer) => Buffer;
  } = {},
) {
  const ownerId = `owner-${randomBytes(4).toString("hex")}`;
  const recordId = randomUUID();
  const imageId = randomUUID();
  await records.insert(pool, { id: recordId, ownerId, category: "general", ciphertext: Buffer.from([1]) });
  await images.createPending(pool, {
    id: imageId,
    ownerId,
    recordId,
    contentType: options.type ?? "image/jpeg",
    declaredSize: options.declared ?? bytes.length,
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  const ids = { ownerId, recordId, imageId };
  const encrypted =
    options.raw ??
    Buffer.from(
      await encryptUpload(bytes, {
        publicKey,
        context: uploadEncryptionContext(options.contextFor ?? imageId),
        ...(options.frameLength ? { frameLength: options.frameLength } : {}),
      }),
    );
  const message = options.mutate ? options.mutate(encrypted) : encrypted;
  const inbox = { bucket: "inbox", key: inboxKey(ids) };
  const put = await store.put(inbox, message);
  const object = { ...inbox, size: message.length, ...(put.versionId ? { versionId: put.versionId } : {}) };
  return { ids, object, inbox, target: { bucket: "images", key: imageKey(ids) } };
}

const row = (id: string) => images.getById(pool, id);

describe("ingest of an upload", () => {
  it("stores the stripped image envelope-encrypted, marks it ready, audits it, empties the inbox", async () => {
    const canary = `CANARY-${randomBytes(6).toString("hex")}`;
    const fixture = jpegFixture({ exifText: canary, keptBytes: Buffer.from("pixels-kept!") });
    const u = await upload(fixture.original);
    const result = await ingestUpload(deps, u.object);
    expect(result).toMatchObject({ outcome: "ready", bytes: fixture.stripped.length, removed: { APP1: 1 } });
    expect(await row(u.ids.imageId)).toMatchObject({ status: "ready", size: fixture.stripped.length });
    expect(await store.head(u.inbox)).toBeUndefined();
    const stored = await buffer((await store.open(u.target)).body);
    expect(stored.includes(Buffer.from("pixels-kept!"))).toBe(false);
    const plain = await buffer(envelope.decryptStream(Readable.from([stored]), imageEnvelopeContext(u.ids)));
    expect(plain.equals(fixture.stripped)).toBe(true);
    const trail = await audit.listForRecord(pool, u.ids.ownerId, u.ids.recordId);
    expect(trail.map((e) => e.action)).toEqual(["image.upload"]);
  });

  it("a repeated event changes nothing and removes the repeated upload", async () => {
    const u = await upload(jpegFixture().original);
    await ingestUpload(deps, u.object);
    await store.put(u.inbox, Buffer.from("second put"));
    expect(await ingestUpload(deps, { ...u.object, size: 10 })).toMatchObject({ outcome: "ignored" });
    expect(await store.head(u.inbox)).toBeUndefined();
    expect((await row(u.ids.imageId))?.status).toBe("ready");
  });
});

describe("refused uploads are rejected with a reason and leave nothing behind", () => {
  const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
  const cases: Array<[string, () => Promise<Awaited<ReturnType<typeof upload>>>, string]> = [
    ["a GIF (not an accepted type)", () => upload(gif), "unsupportedType"],
    ["a PDF declared as a JPEG", () => upload(pdfFixture().original, { type: "image/jpeg" }), "typeMismatch"],
    ["a truncated JPEG", () => upload(jpegFixture().original.subarray(0, 150)), "corrupt"],
    [
      "bytes that are not an upload message",
      () => upload(Buffer.alloc(0), { raw: randomBytes(3000), declared: 3000 }),
      "undecryptable",
    ],
    [
      "an upload encrypted for another image",
      () => upload(jpegFixture().original, { contextFor: randomUUID() }),
      "undecryptable",
    ],
    ["more bytes than announced", () => upload(jpegFixture().original, { declared: 100 }), "tooLarge"],
    // One frame holds the whole JPEG and authenticates; only the empty final frame is wrong or missing.
    [
      "a complete JPEG whose final frame's tag fails",
      () => {
        const jpeg = jpegFixture().original;
        return upload(jpeg, {
          frameLength: jpeg.length,
          declared: 2 * jpeg.length, // room for the extra frame's overhead
          mutate: (m) => {
            const copy = Buffer.from(m);
            copy[copy.length - 1]! ^= 1;
            return copy;
          },
        });
      },
      "undecryptable",
    ],
    [
      "a complete JPEG whose final frame is missing",
      () => {
        const jpeg = jpegFixture().original;
        const emptyFinalFrame = 4 + 4 + 12 + 4 + 16;
        return upload(jpeg, {
          frameLength: jpeg.length,
          declared: 2 * jpeg.length,
          mutate: (m) => m.subarray(0, m.length - emptyFinalFrame),
        });
      },
      "undecryptable",
    ],
  ];
  for (const [name, make, reason] of cases) {
    it(name, async () => {
      const u = await make();
      expect(await ingestUpload(deps, u.object)).toMatchObject({ outcome: "rejected", reason });
      expect(await row(u.ids.imageId)).toMatchObject({ status: "rejected", reason });
      expect(await store.head(u.inbox)).toBeUndefined();
      expect(await store.head(u.target)).toBeUndefined();
    });
  }
});

describe("transient failures write nothing and keep the upload for the retry", () => {
  it("KMS unavailable: no stored object, the row stays pending, the upload stays", async () => {
    const u = await upload(jpegFixture().original);
    kms.setUnavailable(true);
    try {
      await expect(ingestUpload(deps, u.object)).rejects.toThrow();
    } finally {
      kms.setUnavailable(false);
    }
    expect(await store.head(u.target)).toBeUndefined();
    expect((await row(u.ids.imageId))?.status).toBe("pending");
    expect(await store.head(u.inbox)).toBeDefined();
    expect(await ingestUpload(deps, u.object)).toMatchObject({ outcome: "ready" });
  });

  it("the database fails after the object was written: the object is deleted again", async () => {
    const u = await upload(jpegFixture().original);
    // A pool whose connections fail the audit write, as a database going away mid-transaction would.
    const failing = createPool({ connectionString: pg.connectionString, max: 1 });
    failing.on("connect", (client) => {
      const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
      (client as { query: unknown }).query = (config: { name?: string }, ...rest: unknown[]) =>
        config?.name === "veil.audit.append"
          ? Promise.reject(Object.assign(new Error("terminating"), { code: "57P01", severity: "FATAL" }))
          : query(config, ...rest);
    });
    await expect(ingestUpload({ ...deps, pool: failing }, u.object)).rejects.toMatchObject({
      name: "DatabaseUnavailableError",
    });
    expect(await store.head(u.target)).toBeUndefined();
    expect((await row(u.ids.imageId))?.status).toBe("pending");
    expect(await store.head(u.inbox)).toBeDefined();
    await failing.end();
  });
});
