/**
 * The streamed download's own paths through `serveDownload`, answers unsealed, with fake dependencies (an object store and an
 * envelope that stand in for S3 and the Encryption SDK, a fake response stream) on a real PostgreSQL:
 * which requests get 404 or 409, the audit entry before any byte, and the integrity paths — a failure
 * before the first frame is a JSON error, a failure after it aborts the stream.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Readable, type Writable } from "node:stream";
import { CiphertextError, type EnvelopeCrypto } from "@veil/crypto";
import { audit, createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { imageEnvelopeContext, imageKey, ObjectNotFoundError, type ObjectStore } from "@veil/storage";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Pool as DbPool } from "../shared/database.ts";
import { type DownloadDeps, type ResponseStreaming, serveDownload } from "./handler.ts";

// The handler builds its entry point from the Lambda runtime's `awslambda` global on import; outside
// Lambda, Powertools leaves one without `streamifyResponse`. The tests call `serveDownload` directly.
vi.hoisted(() => {
  (globalThis as { awslambda?: object }).awslambda = { streamifyResponse: (h: unknown) => h };
});

let server: TestPostgres;
let pool: DbPool;
const route = { httpMethod: "GET", resource: "/api/records/{id}/images/{imageId}" };

beforeAll(async () => {
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const owner = () => `owner-${randomBytes(4).toString("hex")}`;

/** A record with one image; `ready` gives it a stored size, as the ingest does. */
async function image(sub: string, ready = true) {
  const record = await records.insert(pool, {
    id: records.newRecordId(),
    ownerId: sub,
    category: "general",
    ciphertext: randomBytes(16),
  });
  const row = await images.createPending(pool, {
    id: records.newRecordId(),
    ownerId: sub,
    recordId: record.id,
    contentType: "image/png",
    declaredSize: 6,
    uploadExpiresAt: new Date(Date.now() + 60_000),
  });
  if (ready)
    await images.markReady(pool, {
      id: row.id,
      ownerId: sub,
      contentType: "image/png",
      size: 6,
      objectVersion: "v1",
    });
  return { recordId: record.id, imageId: row.id };
}

/** What the plaintext stream does: give these chunks, then fail (or end). */
type Plaintext = { chunks: Buffer[]; failWith?: Error };

/** Dependencies whose store and envelope record what they were asked. */
function fakes(plaintext: Plaintext | "missing") {
  const opened: { bucket: string; key: string }[] = [];
  const contexts: unknown[] = [];
  const store = {
    async open(location) {
      opened.push(location);
      if (plaintext === "missing") throw new ObjectNotFoundError("GetObject");
      return {
        body: Readable.from([Buffer.from("ciphertext")]),
        contentLength: 10,
        versionId: "v1",
        eTag: "e",
      };
    },
  } as Partial<ObjectStore> as ObjectStore;
  const envelope = {
    decryptStream(_source, ctx) {
      contexts.push(ctx);
      if (plaintext === "missing") throw new Error("not opened");
      return Readable.from(
        (async function* () {
          for (const c of plaintext.chunks) yield c;
          if (plaintext.failWith) throw plaintext.failWith;
        })(),
      );
    },
  } as Partial<EnvelopeCrypto> as EnvelopeCrypto;
  const deps: DownloadDeps = {
    pool,
    store,
    envelope,
    verifyCaller: async (e) => {
      const sub = e.headers?.["x-test-sub"];
      if (!sub) throw new Error("no caller");
      return { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} };
    },
    // Streams in clear: these tests read the route's own paths (sealing: ./handler.test.ts).
    sealer: {
      seal: async (result) => result,
      sealStream: async (_caller, type) => ({ stream: new PassThrough(), headers: { "content-type": type } }),
    },
    imagesBucket: "veil-test-images",
  };
  return { deps, opened, contexts };
}

interface Served {
  status?: number;
  headers?: Record<string, string>;
  body: string;
  aborted: boolean;
}

async function download(
  deps: DownloadDeps,
  sub: string,
  ids: { recordId: string; imageId: string },
  over: Partial<APIGatewayProxyEvent> = {},
): Promise<Served> {
  const served: Served = { body: "", aborted: false };
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve) => {
    stream.on("close", resolve);
    stream.on("end", resolve);
    stream.on("error", () => {
      served.aborted = true;
      resolve();
    });
  });
  const streaming: ResponseStreaming = {
    streamifyResponse: () => undefined,
    HttpResponseStream: {
      from(s: Writable, metadata) {
        served.status = metadata.statusCode;
        served.headers = metadata.headers ?? {};
        return s;
      },
    },
  };
  const event = {
    ...route,
    pathParameters: { id: ids.recordId, imageId: ids.imageId },
    headers: { "x-test-sub": sub },
    requestContext: { requestId: "req-dl" },
    ...over,
  } as unknown as APIGatewayProxyEvent;
  await serveDownload(streaming, deps, event, stream, { awsRequestId: "aws-req" });
  await closed;
  served.body = Buffer.concat(chunks).toString("utf8");
  return served;
}

/** The error code of a JSON error answer. */
const errorCode = (res: Served) => (JSON.parse(res.body) as { error: string }).error;

const downloads = async (sub: string, recordId: string) =>
  (await audit.listForRecord(pool, sub, recordId)).filter((e) => e.action === "image.download").length;

describe("GET /api/records/{id}/images/{imageId} (serveDownload)", () => {
  it("streams the owner's image from its key under its context, on the audit trail first", async () => {
    const sub = owner();
    const ids = await image(sub);
    const f = fakes({ chunks: [Buffer.from("abc"), Buffer.from("def")] });
    const res = await download(f.deps, sub, ids);
    expect(res).toMatchObject({ status: 200, body: "abcdef", aborted: false });
    expect(res.headers).toMatchObject({
      "content-type": "image/png",
      "content-disposition": `attachment; filename="${ids.imageId}.png"`,
      "cache-control": "no-store",
    });
    const key = { ownerId: sub, ...ids };
    expect(f.opened).toEqual([{ bucket: "veil-test-images", key: imageKey(key) }]);
    expect(f.contexts).toEqual([imageEnvelopeContext(key)]);
    expect(await downloads(sub, ids.recordId)).toBe(1);
  });

  // Other spellings of the ids: images/ids.test.ts.
  it("answers 404 for another owner's image or another route, without opening anything", async () => {
    const sub = owner();
    const ids = await image(sub);
    const f = fakes({ chunks: [Buffer.from("x")] });
    const other = await download(f.deps, owner(), ids);
    const route = await download(f.deps, sub, ids, { resource: "/api/records/{id}/images" });
    for (const res of [other, route]) {
      expect(res.status).toBe(404);
      expect(errorCode(res)).toBe("NotFound");
    }
    expect(f.opened).toEqual([]);
    expect(await downloads(sub, ids.recordId)).toBe(0);
  });

  it("answers 409 while the image is not ready", async () => {
    const sub = owner();
    const ids = await image(sub, false);
    const f = fakes({ chunks: [Buffer.from("x")] });
    const res = await download(f.deps, sub, ids);
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe("ImageNotReady");
    expect(f.opened).toEqual([]);
  });

  it("a stored image that fails its check before the first frame is a JSON 502, with no image byte", async () => {
    const sub = owner();
    const ids = await image(sub);
    const res = await download(
      fakes({ chunks: [], failWith: new CiphertextError("tampered") }).deps,
      sub,
      ids,
    );
    expect(res.status).toBe(502);
    expect(errorCode(res)).toBe("ImageIntegrityError");
    expect(res.headers?.["content-type"]).toMatch(/json/);

    const missing = await download(fakes("missing").deps, sub, ids);
    expect(missing.status).toBe(502);
    expect(errorCode(missing)).toBe("ImageMissing");
  });

  it("damage after the first frame aborts the stream: the client never gets a whole-looking file", async () => {
    const sub = owner();
    const ids = await image(sub);
    const f = fakes({ chunks: [Buffer.from("abc")], failWith: new CiphertextError("tampered") });
    const res = await download(f.deps, sub, ids);
    expect(res.status).toBe(200);
    expect(res.aborted).toBe(true);
    expect(res.body).toBe("abc");
  });
});
