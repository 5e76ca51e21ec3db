/**
 * The image routes and the download with ids in other spellings, on a real PostgreSQL with fake S3,
 * key and caller: 404 before any key, URL or context is built from them — never a 5xx.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import { PassThrough, type Writable } from "node:stream";
import type { EnvelopeCrypto } from "@veil/crypto";
import { createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { inboxKey, type ObjectStore } from "@veil/storage";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ImagesApiDeps, routes } from "../images-api/handler.ts";
import { type DownloadDeps, type ResponseStreaming, serveDownload } from "../images-download/handler.ts";
import { createApiHandler } from "../shared/api-handler.ts";
import type { Pool } from "../shared/database.ts";
import { toImageHttpError, UnauthorizedError } from "../shared/errors.ts";
import type { AnswerSealer } from "../shared/sealing.ts";

// The download handler builds its entry point from the Lambda runtime's `awslambda` global on import; outside
// Lambda, Powertools leaves an `awslambda` object without it. The tests call `serveDownload` directly.
vi.hoisted(() => {
  (globalThis as { awslambda?: object }).awslambda = { streamifyResponse: (h: unknown) => h };
});

let server: TestPostgres;
let pool: Pool;
const presigned: string[] = [];
const opened: string[] = [];
const sub = `owner-${randomBytes(4).toString("hex")}`;
let recordId = "";
let imageId = "";

const verifyCaller = async (event: APIGatewayProxyEvent) => {
  if (event.headers?.["x-test-sub"] !== sub) throw new UnauthorizedError();
  return { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} };
};
/** Answers in clear: these tests read the routes' JSON (sealing: ../shared/api-handler.test.ts). */
const sealer: AnswerSealer = {
  seal: async (result) => result,
  sealStream: async () => ({ stream: new PassThrough(), headers: {} }),
};
const store = {
  async presignPut(location: { key: string }) {
    presigned.push(location.key);
    return { url: "https://inbox.example/put", expiresAt: new Date(Date.now() + 300_000), headers: {} };
  },
  async open(location: { key: string }) {
    opened.push(location.key);
    throw new Error("not reached in these tests");
  },
} as unknown as ObjectStore;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  recordId = records.newRecordId();
  await records.insert(pool, {
    id: recordId,
    ownerId: sub,
    category: "general",
    ciphertext: Buffer.from([1]),
  });
  imageId = randomUUID();
  await images.createPending(pool, {
    id: imageId,
    ownerId: sub,
    recordId,
    contentType: "image/png",
    declaredSize: 3,
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  await images.markReady(pool, {
    id: imageId,
    ownerId: sub,
    contentType: "image/png",
    size: 3,
    objectVersion: "v1",
  });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const spellings = (id: string) => [id.toUpperCase(), `{${id}}`, id.replaceAll("-", ""), `urn:uuid:${id}`];

function event(method: string, resource: string, ids: Record<string, string>, body?: string) {
  return {
    httpMethod: method,
    resource,
    path: resource.replace("{id}", ids.id ?? "").replace("{imageId}", ids.imageId ?? ""),
    pathParameters: ids,
    headers: { "x-test-sub": sub, "content-type": "application/x-www-form-urlencoded" },
    body: body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: "req" },
  } as unknown as APIGatewayProxyEvent;
}

describe("images API", () => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const deps: ImagesApiDeps = {
    pool,
    store,
    verifyCaller,
    sealer,
    publicKey: {
      pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      providerId: "veil",
      keyName: "test",
      modulusBytes: 256,
    },
    inboxBucket: "inbox",
  };
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const handle = createApiHandler({
    routes,
    deps: async () => ({ ...deps, pool }),
    toHttpError: toImageHttpError,
    logger: silent,
  });
  const announce = "contentType=image%2Fpng&size=3";

  it("answers 404 to an upload or a list for another spelling of the record id, and signs nothing", async () => {
    for (const id of spellings(recordId)) {
      const upload = await handle(event("POST", "/api/records/{id}/images", { id }, announce), {} as Context);
      expect(upload.statusCode, `POST ${id}`).toBe(404);
      const list = await handle(event("GET", "/api/records/{id}/images", { id }), {} as Context);
      expect(list.statusCode, `GET ${id}`).toBe(404);
    }
    expect(presigned).toEqual([]);
  });

  it("signs the upload for the record id as stored", async () => {
    const res = await handle(
      event("POST", "/api/records/{id}/images", { id: recordId }, announce),
      {} as Context,
    );
    expect(res.statusCode).toBe(201);
    const created = JSON.parse(res.body) as { imageId: string };
    expect(presigned).toEqual([inboxKey({ ownerId: sub, recordId, imageId: created.imageId })]);
  });
});

describe("image download", () => {
  const deps = (): DownloadDeps => ({
    pool,
    store,
    envelope: {} as EnvelopeCrypto,
    verifyCaller,
    sealer,
    imagesBucket: "images",
  });

  async function download(ids: Record<string, string>) {
    let status = 0;
    const streaming: ResponseStreaming = {
      streamifyResponse: () => undefined,
      HttpResponseStream: {
        from(stream: Writable, metadata: { statusCode: number }) {
          status = metadata.statusCode;
          return stream;
        },
      },
    };
    const out = new PassThrough();
    out.resume();
    await serveDownload(streaming, deps(), event("GET", "/api/records/{id}/images/{imageId}", ids), out, {
      awsRequestId: "aws",
    });
    return status;
  }

  it("answers 404 for another spelling of the record id or the image id, and opens nothing", async () => {
    for (const id of spellings(recordId)) expect(await download({ id, imageId }), id).toBe(404);
    for (const other of spellings(imageId))
      expect(await download({ id: recordId, imageId: other }), other).toBe(404);
    expect(opened).toEqual([]);
  });
});
