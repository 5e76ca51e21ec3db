/**
 * `GET /api/export` with fake dependencies (an envelope that checks its context, a header-named
 * caller) on a real PostgreSQL: complete records across pages, images per record, one audit batch per
 * page, another owner's records never included, limits.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { exportImagesPerRecord, exportPageLimit } from "@veil/core";
import { ContextMismatchError, type InMemoryEnvelopeCrypto, type RecordContext } from "@veil/crypto";
import { createPool, images, migrate } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../shared/api-handler.ts";
import { toHttpError, UnauthorizedError } from "../shared/errors.ts";
import type { RecordsDeps } from "./deps.ts";
import { routes } from "./handler.ts";

let server: TestPostgres;
let deps: RecordsDeps;

function fakeEnvelope(): InMemoryEnvelopeCrypto {
  return {
    async encryptFields(fields, ctx) {
      return Buffer.from(JSON.stringify({ ctx, fields }));
    },
    async decryptFields(bytes, ctx: RecordContext) {
      const m = JSON.parse(Buffer.from(bytes).toString("utf8"));
      const differ = (["ownerId", "recordId", "purpose"] as const).filter((k) => m.ctx[k] !== ctx[k]);
      if (differ.length > 0) throw new ContextMismatchError(differ);
      return m.fields;
    },
    encryptBytes: () => Promise.reject(new Error("not used")),
    decryptBytes: () => Promise.reject(new Error("not used")),
    stats: () => ({}) as ReturnType<InMemoryEnvelopeCrypto["stats"]>,
    clearCache: () => undefined,
  };
}

beforeAll(async () => {
  server = await startTestPostgres();
  const pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  deps = {
    pool,
    envelope: fakeEnvelope(),
    verifyCaller: async (event) => {
      const sub = event.headers?.["x-test-sub"];
      if (!sub) throw new UnauthorizedError();
      return { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} };
    },
    verifyToken: () => Promise.reject(new UnauthorizedError()),
    verifyProof: () => Promise.reject(new UnauthorizedError()),
    sealer: { seal: async (result) => result, sealStream: () => Promise.reject(new Error("not used")) },
    openForm: async (body) => Object.fromEntries(new URLSearchParams(body)),
    requestHash: async () => "h",
  };
}, 120_000);

afterAll(async () => {
  await deps?.pool.end();
  await server?.stop();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const handle = createApiHandler({ routes, deps: async () => deps, toHttpError, logger: silent });

async function call(
  method: string,
  resource: string,
  sub: string,
  extra: Partial<APIGatewayProxyEvent> = {},
) {
  const event = {
    httpMethod: method,
    resource,
    path: resource,
    pathParameters: null,
    headers: { "x-test-sub": sub, "content-type": "application/x-www-form-urlencoded" },
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: `req-${randomBytes(4).toString("hex")}` },
    ...extra,
  } as unknown as APIGatewayProxyEvent;
  const res = await handle(event, { awsRequestId: "aws" } as Context);
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

const owner = () => `owner-${randomBytes(4).toString("hex")}`;

async function create(sub: string, name: string) {
  const res = await call("POST", "/api/records", sub, {
    body: new URLSearchParams({
      category: "general",
      fullName: name,
      dateOfBirth: "1980-01-01",
      diagnosis: `Dx ${name}`,
    }).toString(),
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function exportAll(sub: string, limit?: number) {
  const pages = [];
  let cursor: string | undefined;
  do {
    const q: Record<string, string> = {};
    if (cursor) q.cursor = cursor;
    if (limit) q.limit = String(limit);
    const res = await call("GET", "/api/export", sub, { queryStringParameters: q });
    expect(res.status).toBe(200);
    pages.push(res.body);
    cursor = res.body.nextCursor;
  } while (cursor);
  return pages;
}

describe("GET /api/export", () => {
  it("returns every record with every field and its images, page by page, audited once per record", async () => {
    const sub = owner();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create(sub, `Person ${i}`));
    await create(owner(), "Someone Else");
    const image = await images.createPending(deps.pool, {
      id: randomUUID(),
      ownerId: sub,
      recordId: ids[0] as string,
      contentType: "image/png",
      declaredSize: 4,
      uploadExpiresAt: new Date(Date.now() + 60_000),
    });
    await images.markReady(deps.pool, {
      id: image.id,
      ownerId: sub,
      contentType: "image/png",
      size: 3,
      objectVersion: null,
    });

    const pages = await exportAll(sub, 2);
    expect(pages.length).toBe(3);
    const items = pages.flatMap((p) => p.items);
    expect(items.map((r) => r.id).sort()).toEqual([...ids].sort());
    const first = items.find((r) => r.id === ids[0]);
    expect(first).toMatchObject({
      fullName: "Person 0",
      diagnosis: "Dx Person 0",
      category: "general",
      version: 1,
    });
    expect(first.images).toEqual([
      expect.objectContaining({ id: image.id, status: "ready", contentType: "image/png", size: 3 }),
    ]);
    expect(items.find((r) => r.id === ids[1]).images).toEqual([]);
    expect(JSON.stringify(items)).not.toContain("Someone Else");

    const { rows } = await deps.pool.query(
      "SELECT record_id, count(DISTINCT request_id)::int AS requests FROM audit_events WHERE owner_id = $1 AND action = 'export' GROUP BY record_id",
      [sub],
    );
    expect(rows.map((r) => r.record_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.requests === 1)).toBe(true);
  });

  it("refuses a limit outside 1..page limit and answers an empty page for a user without records", async () => {
    const sub = owner();
    for (const limit of ["0", String(exportPageLimit + 1), "x"]) {
      const res = await call("GET", "/api/export", sub, { queryStringParameters: { limit } });
      expect(res.status, limit).toBe(400);
    }
    expect((await exportAll(sub))[0]).toEqual({ items: [] });
  });

  it("lists at most a bounded number of images per record and says how many it left out", async () => {
    const sub = owner();
    const crowded = await create(sub, "Many Images");
    const plain = await create(sub, "One Image");
    const add = (recordId: string, n: number) =>
      deps.pool.query(
        `INSERT INTO images (id, owner_id, record_id, content_type, declared_size, upload_expires_at)
         SELECT gen_random_uuid(), $1, $2, 'image/png', 3, now() + interval '1 minute' FROM generate_series(1, $3)`,
        [sub, recordId, n],
      );
    await add(crowded, exportImagesPerRecord + 250);
    await add(plain, 1);
    const [page] = await exportAll(sub);
    const many = page.items.find((r: { id: string }) => r.id === crowded);
    expect(many.images).toHaveLength(exportImagesPerRecord);
    expect(many.imagesOmitted).toBe(250);
    const one = page.items.find((r: { id: string }) => r.id === plain);
    expect(one.images).toHaveLength(1);
    expect(one).not.toHaveProperty("imagesOmitted");
    // The size budget: a full page of such records stays far below Lambda's 6 MB answer.
    const perRecord = JSON.stringify(many).length;
    expect(perRecord * exportPageLimit).toBeLessThan(2_000_000);
  });

  it("parses its parameters strictly: digits only, and no repeated parameter (a generic 400)", async () => {
    const sub = owner();
    await create(sub, "Person");
    const refused = [
      { queryStringParameters: { limit: "50abc" } },
      { queryStringParameters: { limit: "1e1" } },
      { queryStringParameters: { limit: "5" }, multiValueQueryStringParameters: { limit: ["5", "5"] } },
      { queryStringParameters: { cursor: "a" }, multiValueQueryStringParameters: { cursor: ["b", "a"] } },
    ];
    for (const extra of refused) {
      const res = await call("GET", "/api/export", sub, extra as Partial<APIGatewayProxyEvent>);
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body).toMatchObject({ error: "BadRequest", message: "The export parameters are not valid" });
    }
    const ok = await call("GET", "/api/export", sub, {
      queryStringParameters: { limit: "5" },
      multiValueQueryStringParameters: { limit: ["5"] },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.items).toHaveLength(1);
  });
});
