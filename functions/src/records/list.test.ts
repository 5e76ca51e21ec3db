/**
 * GET /api/records with fake dependencies (a plain-text "FLE", an envelope that checks its context
 * and counts decrypts, a header-named caller) on a real PostgreSQL: the three views, one audit batch
 * per page written before the answer, keyset pages, and 400 for bad parameters.
 */
import { randomBytes } from "node:crypto";
import { ContextMismatchError, type InMemoryEnvelopeCrypto, type RecordContext } from "@veil/crypto";
import { audit, createPool, migrate } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiHandler } from "../shared/api-handler.ts";
import type { Pool } from "../shared/database.ts";
import { toHttpError, UnauthorizedError } from "../shared/errors.ts";
import type { RecordsDeps } from "./deps.ts";
import { routes } from "./handler.ts";
import { disableControlEnv, withTestSwitches } from "./test-switches.ts";

let server: TestPostgres;
let pool: Pool;
let deps: RecordsDeps;
/** Every decryption the route asked for, and every named statement it ran. */
const decrypted: RecordContext[] = [];
const statements: string[] = [];
/** Makes the next audit batch fail, as a database outage would. */
let failAudit = false;

function fakeEnvelope(): InMemoryEnvelopeCrypto {
  return {
    async encryptFields(fields, ctx) {
      return Buffer.from(JSON.stringify({ ctx, fields }));
    },
    async decryptFields(bytes, ctx) {
      decrypted.push(ctx);
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

/** The real pool, with every named statement recorded (and the audit batch failing on demand). */
function observed(real: Pool): Pool {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== "query") return Reflect.get(target, prop, receiver);
      return (config: { name?: string } | string, ...rest: unknown[]) => {
        if (typeof config === "object" && config.name) {
          statements.push(config.name);
          if (failAudit && config.name === "veil.audit.appendMany") {
            return Promise.reject(Object.assign(new Error("terminating connection"), { code: "57P01" }));
          }
        }
        return (target.query as (...a: unknown[]) => unknown)(config, ...rest);
      };
    },
  });
}

beforeAll(async () => {
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  deps = {
    pool: observed(pool),
    envelope: fakeEnvelope(),
    verifyCaller: async (event) => {
      const sub = event.headers?.["x-test-sub"];
      if (!sub) throw new UnauthorizedError();
      return { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} };
    },
    verifyToken: () => Promise.reject(new UnauthorizedError()),
    verifyProof: () => Promise.reject(new UnauthorizedError()),
    // Answers in clear: these tests read the route's JSON (sealing is the handler's, tested there).
    sealer: {
      seal: async (result) => result,
      sealStream: () => Promise.reject(new Error("not used")),
    },
    openForm: async (body) => Object.fromEntries(new URLSearchParams(body)),
    requestHash: async () => "unused",
  };
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

beforeEach(() => {
  decrypted.length = 0;
  statements.length = 0;
  failAudit = false;
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const handle = createApiHandler({ routes, deps: async () => deps, toHttpError, logger: silent });

interface Answer {
  readonly status: number;
  readonly raw: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of several shapes
  readonly body: any;
  readonly requestId: string;
}

async function call(
  method: string,
  sub: string,
  query: Record<string, string> | string = {},
  form?: Record<string, string>,
): Promise<Answer> {
  const params = new URLSearchParams(query);
  const multi: Record<string, string[]> = {};
  for (const k of new Set(params.keys())) multi[k] = params.getAll(k);
  const requestId = `req-${randomBytes(4).toString("hex")}`;
  const event = {
    httpMethod: method,
    resource: "/api/records",
    path: "/api/records",
    pathParameters: null,
    queryStringParameters: params.size ? Object.fromEntries(params) : null,
    multiValueQueryStringParameters: params.size ? multi : null,
    headers: {
      "x-test-sub": sub,
      ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    body: form ? new URLSearchParams(form).toString() : null,
    isBase64Encoded: false,
    requestContext: { requestId },
  } as unknown as APIGatewayProxyEvent;
  const res: APIGatewayProxyResult = await handle(event, { awsRequestId: "aws-req" } as Context);
  return {
    status: res.statusCode,
    raw: res.body,
    body: res.body ? JSON.parse(res.body) : undefined,
    requestId,
  };
}

const owner = () => `owner-${randomBytes(4).toString("hex")}`;
const canary = () => `CANARY${randomBytes(6).toString("hex")}`;

/** Creates `n` records with canaries in every field; returns them newest first. */
async function createRecords(sub: string, n: number) {
  const made: Array<{
    id: string;
    fullName: string;
    insuranceNumber: string;
    diagnosis: string;
    notes: string;
  }> = [];
  for (let i = 0; i < n; i++) {
    const values = {
      fullName: `Ada ${canary()}`,
      insuranceNumber: `INS${i}${randomBytes(3).toString("hex").toUpperCase()}`,
      diagnosis: `Diagnosis ${canary()}`,
      notes: `Notes ${canary()}`,
    };
    const res = await call("POST", sub, {}, { category: "general", dateOfBirth: "1980-01-01", ...values });
    expect(res.status).toBe(201);
    made.unshift({ id: res.body.id, ...values });
  }
  decrypted.length = 0;
  statements.length = 0;
  return made;
}

const listEvents = async (sub: string, recordId: string) =>
  (await audit.listForRecord(pool, sub, recordId)).filter((e) => e.action === "list");

describe("GET /api/records: views", () => {
  it("by default, each item carries its name and birth date, decrypted once, and nothing else sensitive", async () => {
    const sub = owner();
    const made = await createRecords(sub, 3);
    const res = await call("GET", sub);
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(made.map((r) => r.id));
    for (const [i, item] of res.body.items.entries()) {
      expect(Object.keys(item).sort()).toEqual(
        ["category", "createdAt", "dateOfBirth", "fullName", "id", "updatedAt", "version"].sort(),
      );
      expect(item.fullName).toBe(made[i]?.fullName);
      expect(item.dateOfBirth).toBe("1980-01-01");
    }
    for (const r of made) {
      expect(res.raw).not.toContain(r.diagnosis);
      expect(res.raw).not.toContain(r.notes);
      expect(res.raw).not.toContain(r.insuranceNumber);
    }
    // One decryption per record, each under its own record's context.
    expect(decrypted.map((c) => [c.ownerId, c.recordId]).sort()).toEqual(made.map((r) => [sub, r.id]).sort());
  });

  it("view=search adds the insurance number and the diagnosis, never the other fields", async () => {
    const sub = owner();
    const made = await createRecords(sub, 2);
    const res = await call("GET", sub, { view: "search" });
    expect(res.status).toBe(200);
    for (const [i, item] of res.body.items.entries()) {
      expect(item).toMatchObject({
        fullName: made[i]?.fullName,
        insuranceNumber: made[i]?.insuranceNumber,
        diagnosis: made[i]?.diagnosis,
      });
      expect(res.raw).not.toContain(made[i]?.notes);
    }
  });

  it("view=metadata decrypts nothing, reads no ciphertext, writes no audit event and returns no value", async () => {
    const sub = owner();
    const made = await createRecords(sub, 2);
    const res = await call("GET", sub, { view: "metadata" });
    expect(res.status).toBe(200);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(made.map((r) => r.id));
    for (const item of res.body.items) {
      expect(Object.keys(item).sort()).toEqual(
        ["category", "createdAt", "id", "updatedAt", "version"].sort(),
      );
    }
    expect(decrypted).toEqual([]);
    expect(statements).not.toContain("veil.records.list");
    expect(statements).not.toContain("veil.audit.appendMany");
    for (const r of made) expect(await listEvents(sub, r.id)).toEqual([]);
  });

  it("lists only the caller's records", async () => {
    const alice = owner();
    const bob = owner();
    await createRecords(alice, 2);
    const res = await call("GET", bob, { view: "search" });
    expect(res.body.items).toEqual([]);
    expect(decrypted).toEqual([]);
  });
});

describe("GET /api/records: audit and pages", () => {
  it("puts every record of a page on its trail in ONE batch, after decrypting and before answering", async () => {
    const sub = owner();
    const made = await createRecords(sub, 4);
    const res = await call("GET", sub, { view: "search" });
    expect(res.status).toBe(200);
    expect(statements.filter((s) => s.startsWith("veil.audit."))).toEqual(["veil.audit.appendMany"]);
    for (const r of made) {
      expect((await listEvents(sub, r.id)).map((e) => [e.actor, e.requestId])).toEqual([
        [sub, res.requestId],
      ]);
    }
  });

  it("answers nothing but a generic 5xx when the audit batch fails", async () => {
    const sub = owner();
    const made = await createRecords(sub, 2);
    failAudit = true;
    const res = await call("GET", sub);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(Object.keys(res.body).sort()).toEqual(["error", "message", "requestId"]);
    for (const r of made) expect(res.raw).not.toContain(r.fullName);
    for (const r of made) expect(await listEvents(sub, r.id)).toEqual([]);
  });

  it("the test switch that removes the audit trail removes the list's batch too (so its check can fail)", async () => {
    const sub = owner();
    const made = await createRecords(sub, 2);
    process.env[disableControlEnv] = "auditTrail";
    try {
      const switched = withTestSwitches(deps, silent);
      const off = createApiHandler({ routes, deps: async () => switched, toHttpError, logger: silent });
      const event = {
        httpMethod: "GET",
        resource: "/api/records",
        path: "/api/records",
        headers: { "x-test-sub": sub },
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        requestContext: { requestId: "req-switched" },
      } as unknown as APIGatewayProxyEvent;
      const res = await off(event, { awsRequestId: "aws-req" } as Context);
      expect(res.statusCode).toBe(200);
    } finally {
      delete process.env[disableControlEnv];
    }
    for (const r of made) expect(await listEvents(sub, r.id)).toEqual([]);
  });

  it("pages with a cursor: every record once, newest first, one batch per page", async () => {
    const sub = owner();
    const made = await createRecords(sub, 7);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await call("GET", sub, { limit: "3", ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(made.map((r) => r.id));
    expect(statements.filter((s) => s === "veil.audit.appendMany")).toHaveLength(3);
    // The metadata view walks the same pages with the same cursors.
    const first = await call("GET", sub, { limit: "3" });
    const meta = await call("GET", sub, { limit: "3", view: "metadata", cursor: first.body.nextCursor });
    const names = await call("GET", sub, { limit: "3", cursor: first.body.nextCursor });
    expect(meta.body.items.map((i: { id: string }) => i.id)).toEqual(
      names.body.items.map((i: { id: string }) => i.id),
    );
  });

  it("answers 400 with a generic body for a bad view, limit or cursor, before reading anything", async () => {
    const sub = owner();
    await createRecords(sub, 1);
    const bad: Array<Record<string, string> | string> = [
      { view: "all" },
      { view: "" },
      { view: "toString" },
      { view: "__proto__" },
      { limit: "0" },
      { limit: "101" },
      { limit: "abc" },
      { limit: "-1" },
      { limit: "1e2" },
      { limit: "10abc" },
      { limit: "" },
      { cursor: "garbage" },
      { cursor: "' OR 1=1" },
      { cursor: "A".repeat(4000) },
      "limit=1&limit=2",
      "view=metadata&view=search",
    ];
    for (const query of bad) {
      const res = await call("GET", sub, query);
      const label = JSON.stringify(query).slice(0, 60);
      expect(res.status, label).toBe(400);
      expect(res.body.error, label).toBe("BadRequest");
      expect(Object.keys(res.body).sort(), label).toEqual(["error", "message", "requestId"]);
      for (const v of new URLSearchParams(query).values()) if (v.length > 3) expect(res.raw).not.toContain(v);
    }
    expect(decrypted).toEqual([]);
    expect(statements.filter((s) => s.startsWith("veil.audit."))).toEqual([]);
  });
});
