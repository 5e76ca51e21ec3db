/**
 * The records routes with fake dependencies (a plain-text "FLE", an envelope that checks its context
 * like the real one, a header-named caller) on a real PostgreSQL: the id rule, the update contract of
 * PUT and POST, the precondition statuses, racing updates and keyed creates.
 */
import { randomBytes } from "node:crypto";
import { encryptionPurposes, recordRoutes } from "@veil/core";
import { ContextMismatchError, type InMemoryEnvelopeCrypto, type RecordContext } from "@veil/crypto";
import { createPool, migrate } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../shared/api-handler.ts";
import { toHttpError, UnauthorizedError } from "../shared/errors.ts";
import type { RecordsDeps } from "./deps.ts";
import { routes } from "./handler.ts";
import { createRequestHasher } from "./request-hash.ts";

let server: TestPostgres;
let deps: RecordsDeps;
/** Every encryption context the routes asked for, in order. */
const encryptedUnder: RecordContext[] = [];

/** Stands in for the envelope encryption: the message carries its context and refuses any other. */
function fakeEnvelope(): InMemoryEnvelopeCrypto {
  const same = (a: RecordContext, b: RecordContext) =>
    (["ownerId", "recordId", "purpose"] as const).filter((k) => a[k] !== b[k]);
  return {
    async encryptFields(fields, ctx) {
      encryptedUnder.push(ctx);
      return Buffer.from(JSON.stringify({ ctx, fields }));
    },
    async decryptFields(bytes, ctx) {
      const m = JSON.parse(Buffer.from(bytes).toString("utf8"));
      const differ = same(m.ctx, ctx);
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
  const pool = createPool({ connectionString: server.connectionString, max: 8 });
  await migrate(pool);
  const key = randomBytes(32);
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
    // Answers in clear: these tests read the routes' JSON (sealing: ../shared/api-handler.test.ts).
    sealer: {
      seal: async (result) => result,
      sealStream: () => Promise.reject(new Error("not used")),
    },
    openForm: async (body) => Object.fromEntries(new URLSearchParams(body)),
    requestHash: createRequestHasher(async () => key),
  };
}, 120_000);

afterAll(async () => {
  await deps?.pool.end();
  await server?.stop();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const handle = createApiHandler({ routes, deps: async () => deps, toHttpError, logger: silent });

interface Request {
  readonly method: string;
  readonly resource: string;
  readonly id?: string;
  readonly sub: string;
  readonly headers?: Record<string, string>;
  readonly form?: Record<string, string>;
  readonly body?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  readonly body: any;
}

async function call(r: Request): Promise<Answer> {
  const body = r.body ?? (r.form ? new URLSearchParams(r.form).toString() : null);
  const event = {
    httpMethod: r.method,
    resource: r.resource,
    path: r.resource.replace("{id}", r.id ?? ""),
    pathParameters: r.id === undefined ? null : { id: r.id },
    headers: {
      "x-test-sub": r.sub,
      ...(r.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      ...r.headers,
    },
    body,
    isBase64Encoded: false,
    requestContext: { requestId: `req-${randomBytes(4).toString("hex")}` },
  } as unknown as APIGatewayProxyEvent;
  const res: APIGatewayProxyResult = await handle(event, { awsRequestId: "aws-req" } as Context);
  return {
    status: res.statusCode,
    headers: res.headers as Record<string, string>,
    body: res.body ? JSON.parse(res.body) : undefined,
  };
}

const fields = (name: string) => ({ category: "general", fullName: name, dateOfBirth: "1980-01-01" });
const owner = () => `owner-${randomBytes(4).toString("hex")}`;

async function create(sub: string, name = "Ada Example") {
  const res = await call({ method: "POST", resource: "/api/records", sub, form: fields(name) });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}

const read = (sub: string, id: string) => call({ method: "GET", resource: "/api/records/{id}", id, sub });
const update = (
  method: "PUT" | "POST",
  sub: string,
  id: string,
  headers: Record<string, string>,
  form = fields("Changed"),
) => call({ method, resource: "/api/records/{id}", id, sub, headers, form });

/** Other spellings of the same uuid (and of no uuid at all). */
const spellings = (id: string) => [
  id.toUpperCase(),
  id.replace(/[a-f]/, (c) => c.toUpperCase()),
  `{${id}}`,
  `urn:uuid:${id}`,
  id.replaceAll("-", ""),
  ` ${id}`,
];

describe("record ids: one spelling, the same rule on every route", () => {
  it("answers 404 for every other spelling on every {id} route, builds no context and changes nothing", async () => {
    const sub = owner();
    const { id } = await create(sub);
    const trail = (await call({ method: "GET", resource: "/api/records/{id}/audit", id, sub })).body.items;
    const contexts = encryptedUnder.length;
    for (const other of spellings(id)) {
      for (const route of recordRoutes.filter((r) => r.resource.includes("{id}"))) {
        const res = await call({
          method: route.method,
          resource: route.resource,
          id: other,
          sub,
          headers: { "if-match": '"1"' },
          ...(route.method === "GET" || route.method === "DELETE" ? {} : { form: fields("Other Spelling") }),
        });
        expect(res.status, `${route.method} ${route.resource} ${other}`).toBe(404);
        expect(res.body).toMatchObject({ error: "NotFound" });
      }
    }
    expect(encryptedUnder.length).toBe(contexts);
    const after = await read(sub, id);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ ...fields("Ada Example"), id, version: 1 });
    const trailAfter = (await call({ method: "GET", resource: "/api/records/{id}/audit", id, sub })).body
      .items;
    expect(trailAfter.length).toBe(trail.length + 1); // the read just above, nothing else
  });

  it("binds the encryption context of an update to the id as stored", async () => {
    const sub = owner();
    const { id } = await create(sub);
    const res = await update("POST", sub, id, { "if-match": '"1"' });
    expect(res.status).toBe(200);
    expect(encryptedUnder.at(-1)).toEqual({
      ownerId: sub,
      recordId: id,
      purpose: encryptionPurposes.recordFields,
    });
    expect((await read(sub, id)).body).toMatchObject({ fullName: "Changed", version: 2 });
  });
});

describe("PUT and POST /api/records/{id}: one contract", () => {
  const cases: Array<
    [string, (id: string) => { id: string; headers: Record<string, string>; body?: string }]
  > = [
    ["current version", (id) => ({ id, headers: { "if-match": '"1"' } })],
    ["weak ETag", (id) => ({ id, headers: { "if-match": 'W/"1"' } })],
    ["no If-Match", (id) => ({ id, headers: {} })],
    ["malformed If-Match", (id) => ({ id, headers: { "if-match": "*" } })],
    ["stale If-Match", (id) => ({ id, headers: { "if-match": '"7"' } })],
    [
      "stale If-Match and an invalid body",
      (id) => ({ id, headers: { "if-match": '"7"' }, body: "fullName=" }),
    ],
    ["unknown id", () => ({ id: "00000000-0000-4000-8000-000000000000", headers: { "if-match": '"1"' } })],
    ["upper-case id", (id) => ({ id: id.toUpperCase(), headers: { "if-match": '"1"' } })],
    ["invalid body", (id) => ({ id, headers: { "if-match": '"1"' }, body: "category=general&fullName=" })],
    ["JSON body", (id) => ({ id, headers: { "if-match": '"1"', "content-type": "application/json" } })],
  ];

  it("answers the same status and error code for the same request", async () => {
    const seen: Record<string, number> = {};
    for (const [label, make] of cases) {
      const answers = [];
      for (const method of ["PUT", "POST"] as const) {
        const sub = owner();
        const { id } = await create(sub);
        const r = make(id);
        const res = await call({
          method,
          resource: "/api/records/{id}",
          id: r.id,
          sub,
          headers: r.headers,
          form: fields("Changed"),
          ...(r.body ? { body: r.body } : {}),
        });
        answers.push({ status: res.status, error: res.body?.error });
      }
      expect(answers[0], label).toEqual(answers[1]);
      seen[label] = answers[0]?.status ?? 0;
    }
    expect(seen).toEqual({
      "current version": 200,
      "weak ETag": 200,
      "no If-Match": 428,
      "malformed If-Match": 400,
      "stale If-Match": 412,
      "stale If-Match and an invalid body": 412,
      "unknown id": 404,
      "upper-case id": 404,
      "invalid body": 400,
      "JSON body": 415,
    });
  });

  it("a stale If-Match is 412 Precondition Failed for updates and deletes, and the record stays", async () => {
    const sub = owner();
    const { id } = await create(sub);
    expect((await update("POST", sub, id, { "if-match": '"1"' })).status).toBe(200);
    const stale = await update("PUT", sub, id, { "if-match": '"1"' }, fields("Lost Update"));
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ error: "PreconditionFailed" });
    const del = await call({
      method: "DELETE",
      resource: "/api/records/{id}",
      id,
      sub,
      headers: { "if-match": '"1"' },
    });
    expect(del.status).toBe(412);
    expect((await read(sub, id)).body).toMatchObject({ fullName: "Changed", version: 2 });
  });

  it("four racing updates on one version: exactly one wins, the others get 412, none a 5xx", async () => {
    const sub = owner();
    const { id } = await create(sub);
    const names = ["Racer One", "Racer Two", "Racer Three", "Racer Four"];
    const answers = await Promise.all(
      names.map((n, i) => update(i % 2 ? "PUT" : "POST", sub, id, { "if-match": '"1"' }, fields(n))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 412, 412, 412]);
    const winner = names[answers.findIndex((a) => a.status === 200)];
    const after = await read(sub, id);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ fullName: winner, version: 2 });
    expect(after.headers.etag).toBe('"2"');
  });
});

describe("keyed creates", () => {
  const keyed = (sub: string, key: string, name: string) =>
    call({
      method: "POST",
      resource: "/api/records",
      sub,
      headers: { "idempotency-key": key },
      form: fields(name),
    });

  it("a retry, and concurrent retries, return the first record and never a 5xx", async () => {
    const sub = owner();
    const key = `key-${randomBytes(6).toString("hex")}`;
    const answers = await Promise.all([1, 2, 3, 4].map(() => keyed(sub, key, "Keyed Person")));
    answers.push(await keyed(sub, key, "Keyed Person"));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers["idempotent-replayed"] !== "true")).toHaveLength(1);
    const list = await call({ method: "GET", resource: "/api/records", sub });
    expect(list.body.items).toHaveLength(1);
    expect((await read(sub, answers[0]?.body.id)).body).toMatchObject(fields("Keyed Person"));
  });

  it("the same key with another request is 422, and writes nothing", async () => {
    const sub = owner();
    const key = `key-${randomBytes(6).toString("hex")}`;
    expect((await keyed(sub, key, "First Person")).status).toBe(201);
    const other = await keyed(sub, key, "Second Person");
    expect(other.status).toBe(422);
    expect((await call({ method: "GET", resource: "/api/records", sub })).body.items).toHaveLength(1);
  });
});
