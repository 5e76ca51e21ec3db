/**
 * The buffered image routes through their exported route functions, with fake dependencies (an object
 * store that records what it presigns, a generated FLE public key) on a real PostgreSQL: what an
 * announcement must carry, the size limit, another owner's record, and the list.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { imageLimits } from "@veil/core";
import { createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { inboxKey, type ObjectStore, uploadCiphertextLength, uploadEncryptionContext } from "@veil/storage";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toImageHttpError } from "../shared/errors.ts";
import { createUpload, type ImagesApiDeps, listImages } from "./handler.ts";

let server: TestPostgres;
let deps: ImagesApiDeps;
/** What the routes asked the object store to presign, in order. */
let presigned: { bucket: string; key: string; expiresInSeconds: number; contentLength?: number }[] = [];
const publicKeyPem = generateKeyPairSync("rsa", { modulusLength: 2048 })
  .publicKey.export({ type: "spki", format: "pem" })
  .toString();

beforeAll(async () => {
  server = await startTestPostgres();
  const pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  const store = {
    async presignPut(location, options) {
      presigned.push({ ...location, ...options });
      return {
        url: `https://inbox.example/${location.key}?signed`,
        expiresAt: new Date(Date.now() + options.expiresInSeconds * 1000),
        headers: { "content-length": String(options.contentLength) },
      };
    },
  } as Partial<ObjectStore> as ObjectStore;
  deps = {
    pool,
    store,
    verifyCaller: () => Promise.reject(new Error("the routes get their caller from the handler")),
    // The routes answer in clear; the handler seals (../shared/api-handler.test.ts).
    sealer: {
      seal: async (result) => result,
      sealStream: () => Promise.reject(new Error("not used")),
    },
    publicKey: { pem: publicKeyPem, providerId: "veil-fle", keyName: "fle-key-1", modulusBytes: 256 },
    inboxBucket: "veil-test-inbox",
  };
}, 120_000);

afterAll(async () => {
  await deps?.pool.end();
  await server?.stop();
});

beforeEach(() => {
  presigned = [];
});

const owner = () => `owner-${randomBytes(4).toString("hex")}`;

async function newRecord(ownerId: string): Promise<string> {
  const row = await records.insert(deps.pool, {
    id: records.newRecordId(),
    ownerId,
    category: "general",
    ciphertext: randomBytes(16),
  });
  return row.id;
}

function event(id: string, form?: Record<string, string>): APIGatewayProxyEvent {
  return {
    pathParameters: { id },
    headers: form ? { "content-type": "application/x-www-form-urlencoded" } : {},
    body: form ? new URLSearchParams(form).toString() : null,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

const input = (sub: string, e: APIGatewayProxyEvent) => ({
  deps,
  caller: { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} },
  event: e,
  requestId: "req-1",
});

/** The route's failure as the client sees it: status and error code. */
async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string; fields?: string[] }> {
  const err = await p.then(
    () => expect.unreachable("the route answered instead of refusing"),
    (e: unknown) => e,
  );
  const http = toImageHttpError(err);
  const details = http.details as { field: string }[] | undefined;
  return {
    status: http.status,
    code: http.code,
    ...(details ? { fields: details.map((i) => i.field) } : {}),
  };
}

describe("POST /api/records/{id}/images (createUpload)", () => {
  it("answers a pending image and a PUT URL signed for the exact encrypted length of the owner's inbox key", async () => {
    const sub = owner();
    const recordId = await newRecord(sub);
    const res = await createUpload(input(sub, event(recordId, { contentType: "image/png", size: "12345" })));
    expect(res.statusCode).toBe(201);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({
      recordId,
      status: "pending",
      contentType: "image/png",
      uploadMethod: "PUT",
    });
    expect(res.headers?.location).toBe(`/api/records/${recordId}/images/${body.imageId}`);

    const context = uploadEncryptionContext(body.imageId);
    const length = uploadCiphertextLength(12345, {
      providerId: "veil-fle",
      keyName: "fle-key-1",
      modulusBytes: 256,
      context,
    });
    expect(presigned).toEqual([
      {
        bucket: "veil-test-inbox",
        key: inboxKey({ ownerId: sub, recordId, imageId: body.imageId }),
        expiresInSeconds: imageLimits.uploadUrlSeconds,
        contentLength: length,
      },
    ]);
    expect(body.encryption).toMatchObject({ encryptionContext: context, contentLength: length });
    expect(body.publicKey).toEqual({ pem: publicKeyPem, providerId: "veil-fle", keyName: "fle-key-1" });
    const stored = await images.get(deps.pool, sub, recordId, body.imageId);
    expect(stored).toMatchObject({ status: "pending", declaredSize: 12345, contentType: "image/png" });
  });

  it("refuses an unknown content type and a size that is not a positive whole number, naming both fields", async () => {
    const sub = owner();
    const recordId = await newRecord(sub);
    for (const size of ["0", "-1", "1.5", "12abc", "", "1234567890123"]) {
      const r = await refusal(createUpload(input(sub, event(recordId, { contentType: "image/gif", size }))));
      expect(r, size).toEqual({ status: 400, code: "ValidationError", fields: ["contentType", "size"] });
    }
    expect(await refusal(createUpload(input(sub, event(recordId))))).toMatchObject({ status: 415 });
    expect(presigned).toEqual([]);
    expect(await images.listForRecord(deps.pool, sub, recordId)).toEqual([]);
  });

  it("takes images up to the size limit and answers 413 above it", async () => {
    const sub = owner();
    const recordId = await newRecord(sub);
    const atLimit = { contentType: "application/pdf", size: String(imageLimits.maxBytes) };
    expect((await createUpload(input(sub, event(recordId, atLimit)))).statusCode).toBe(201);
    const above = { contentType: "application/pdf", size: String(imageLimits.maxBytes + 1) };
    expect(await refusal(createUpload(input(sub, event(recordId, above))))).toEqual({
      status: 413,
      code: "ImageTooLarge",
      fields: ["size"],
    });
    expect(presigned).toHaveLength(1);
  });

  // Other spellings of the id: images/ids.test.ts.
  it("answers 404 for another owner's record, before anything is signed", async () => {
    const recordId = await newRecord(owner());
    const form = { contentType: "image/jpeg", size: "100" };
    expect(await refusal(createUpload(input(owner(), event(recordId, form))))).toMatchObject({ status: 404 });
    expect(presigned).toEqual([]);
  });
});

describe("GET /api/records/{id}/images (listImages)", () => {
  it("lists the record's images oldest first, to its owner only", async () => {
    const sub = owner();
    const recordId = await newRecord(sub);
    const empty = await listImages(input(sub, event(recordId)));
    expect(JSON.parse(empty.body)).toEqual({ items: [] });

    const ids: string[] = [];
    for (const contentType of ["image/png", "image/webp"]) {
      const res = await createUpload(input(sub, event(recordId, { contentType, size: "10" })));
      ids.push(JSON.parse(res.body).imageId);
    }
    await newRecord(sub).then((other) =>
      createUpload(input(sub, event(other, { contentType: "image/png", size: "1" }))),
    );
    const list = await listImages(input(sub, event(recordId)));
    expect(list.statusCode).toBe(200);
    const items = JSON.parse(list.body).items as { id: string; status: string }[];
    expect(items.map((i) => i.id)).toEqual(ids);
    expect(items.every((i) => i.status === "pending")).toBe(true);
    expect(JSON.stringify(items)).not.toContain("inbox");

    expect(await refusal(listImages(input(owner(), event(recordId))))).toMatchObject({ status: 404 });
  });
});
