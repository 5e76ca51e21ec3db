/**
 * The API description against real answers: every route is called through the local CloudFront on a
 * real PostgreSQL — successes, refusals and errors — and each answer's status, headers and body are
 * checked against docs/openapi.json with Ajv (`../openapi/answers.ts`). A sealed answer is checked on
 * the wire (media type, base64, `x-veil-sealed-type`) and, opened by the client, against the plaintext
 * schema. Until the stack seals, clear answers are checked against the plaintext schema instead; once
 * any answer arrives sealed, every answer the description says is sealed must be.
 */
import { randomUUID } from "node:crypto";
import { sealedAnswer } from "@veil/core";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { pngFixture } from "@veil/storage/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAnswerChecker, readOpenApiDocument } from "../openapi/answers.ts";
import { imageClient, type UploadTicket } from "../s3/testing.ts";
import {
  canaryFields,
  formType,
  makeCanaries,
  type ProofStack,
  rawAnswer,
  recordForm,
  startProofStack,
} from "./harness.ts";
import { recordResult } from "./results.ts";

const doc = readOpenApiDocument();
const check = createAnswerChecker(doc, { allowUnsealed: true });

let pgServer: TestPostgres;
let p: ProofStack;
/** `"METHOD /resource"` → the statuses seen, to show every documented success was exercised. */
const seen = new Map<string, Set<number>>();
const sealing = { sealed: 0, unsealed: [] as string[] };
let checked = 0;

interface Call {
  readonly method?: string;
  /** The route's resource template; `path` fills it in. */
  readonly resource: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** `null`: no access token. Default: Alice's. */
  readonly token?: string | null;
}

/** The wire answer and, for a sealed one, the plaintext the client opened (JSON parsed when buffered). */
async function observe(res: Response): Promise<{ headers: Headers; body: Uint8Array; opened?: unknown }> {
  const body = new Uint8Array(await res.arrayBuffer());
  const wire = rawAnswer(res);
  const type = wire?.headers.get("content-type");
  if (!wire || (type !== sealedAnswer.contentType && type !== sealedAnswer.streamContentType))
    return { headers: wire?.headers ?? res.headers, body: wire?.body ?? body };
  const opened = type === sealedAnswer.contentType ? JSON.parse(Buffer.from(body).toString("utf8")) : body;
  return { headers: wire.headers, body: wire.body, opened };
}

/** Calls the API through CloudFront and checks the answer against the description. */
async function call(c: Call, expected: number) {
  const method = c.method ?? "GET";
  const token = c.token === undefined ? p.alice.token : c.token;
  const res = await p.api(c.path, {
    method,
    ...(token ? { token } : {}),
    headers: { ...(c.body !== undefined ? { "content-type": formType } : {}), ...c.headers },
    ...(c.body !== undefined ? { body: c.body } : {}),
  });
  const wire = await observe(res);
  const label = `${method} ${c.path}`;
  expect(res.status, `${label}: ${Buffer.from(wire.body).toString("utf8").slice(0, 300)}`).toBe(expected);
  const answer = { method, resource: c.resource, status: res.status, ...wire };
  const verdict = check(answer);
  checked += 1;
  expect(verdict.problems, label).toEqual([]);
  if (verdict.sealed) sealing.sealed += 1;
  if (verdict.unsealed) sealing.unsealed.push(`${method} ${c.resource} ${res.status}`);
  const key = `${method} ${c.resource}`;
  seen.set(key, (seen.get(key) ?? new Set()).add(res.status));
  const text = Buffer.from(wire.body).toString("utf8");
  const json =
    wire.opened ?? (text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : undefined);
  return { res, json: json as Record<string, unknown> };
}

const records = "/api/records";
const exportPath = "/api/export";
const account = "/api/account";
const record = "/api/records/{id}";
const images = "/api/records/{id}/images";
const image = "/api/records/{id}/images/{imageId}";
const at = (resource: string, id: string, imageId = "") =>
  resource.replace("{id}", id).replace("{imageId}", imageId);

beforeAll(async () => {
  pgServer = await startTestPostgres();
  p = await startProofStack({ databaseUrl: pgServer.connectionString });
});

afterAll(async () => {
  recordResult({ section: "openapi", counts: { answers: checked, sealed: sealing.sealed } });
  await p?.stop();
  await pgServer?.stop();
});

describe("every answer matches docs/openapi.json", () => {
  let id = "";
  let etag = "";

  it("records: create (and its idempotent retry), list with pages, read, audit trail", async () => {
    const form = recordForm(canaryFields(makeCanaries()));
    const key = `openapi-${randomUUID()}`;
    const created = await call(
      { method: "POST", resource: records, path: records, body: form, headers: { "idempotency-key": key } },
      201,
    );
    id = String(created.json.id);
    etag = created.res.headers.get("etag") ?? "";
    expect(created.res.headers.get("location")).toBe(`/api/records/${id}`);
    const replayed = await call(
      { method: "POST", resource: records, path: records, body: form, headers: { "idempotency-key": key } },
      201,
    );
    expect(replayed.res.headers.get("idempotent-replayed")).toBe("true");
    await call(
      { method: "POST", resource: records, path: records, body: recordForm(canaryFields(makeCanaries())) },
      201,
    );

    const page = await call({ resource: records, path: `${records}?limit=1` }, 200);
    expect(page.json.nextCursor).toEqual(expect.any(String));
    await call(
      { resource: records, path: `${records}?cursor=${encodeURIComponent(String(page.json.nextCursor))}` },
      200,
    );
    const names = await call({ resource: records, path: records }, 200);
    const viewOf = async (view: string) =>
      (await call({ resource: records, path: `${records}?view=${view}` }, 200)).json.items as Record<
        string,
        unknown
      >[];
    const [asNames, asSearch, asMetadata] = [
      await viewOf("names"),
      await viewOf("search"),
      await viewOf("metadata"),
    ];
    expect(names.json.items).toEqual(asNames);
    const mine = (items: Record<string, unknown>[]) => items.find((i) => i.id === id) ?? {};
    expect(Object.keys(mine(asNames)).sort()).toEqual(
      ["category", "createdAt", "dateOfBirth", "fullName", "id", "updatedAt", "version"].sort(),
    );
    expect(mine(asSearch)).toMatchObject({
      insuranceNumber: expect.any(String),
      diagnosis: expect.any(String),
    });
    expect(Object.keys(mine(asMetadata)).sort()).toEqual(
      ["category", "createdAt", "id", "updatedAt", "version"].sort(),
    );
    await call({ resource: record, path: at(record, id) }, 200);
    await call({ resource: `${record}/audit`, path: at(`${record}/audit`, id) }, 200);
  });

  it("records: update by POST with its preconditions, PUT refused at the edge, delete", async () => {
    const form = recordForm(canaryFields(makeCanaries()));
    const update = (headers: Record<string, string>, body = form) =>
      ({ method: "POST", resource: record, path: at(record, id), body, headers }) as const;
    await call(update({}), 428);
    await call(update({ "if-match": "not-an-etag" }), 400);
    await call(update({ "if-match": '"99"' }), 412);
    await call(update({ "if-match": etag, "content-type": "text/plain" }), 415);
    const invalid = await call(update({ "if-match": etag }, `${form}&isAdmin=true`), 400);
    expect(invalid.json).toMatchObject({ error: "ValidationError", details: expect.any(Array) });
    const updated = await call(update({ "if-match": etag }), 200);
    expect(updated.res.headers.get("etag")).toBe('"2"');
    await call(
      { method: "PUT", resource: record, path: at(record, id), body: form, headers: { "if-match": '"2"' } },
      405,
    );

    const doomed = await call({ method: "POST", resource: records, path: records, body: form }, 201);
    const doomedId = String(doomed.json.id);
    await call(
      { method: "DELETE", resource: record, path: at(record, doomedId), headers: { "if-match": '"7"' } },
      412,
    );
    await call(
      { method: "DELETE", resource: record, path: at(record, doomedId), headers: { "if-match": '"1"' } },
      204,
    );
    await call({ method: "DELETE", resource: record, path: at(record, doomedId) }, 404);
    await call({ resource: record, path: at(record, doomedId) }, 404);
  });

  it("images: announce (and its refusals), list, the not-ready refusal, upload and sealed download", async () => {
    const file = pngFixture({ width: 8, height: 8 }).original;
    const announce = (body: string) =>
      ({ method: "POST", resource: images, path: at(images, id), body }) as const;
    await call(announce("contentType=image%2Fgif&size=10"), 400);
    await call(announce(`contentType=image%2Fpng&size=${30 * 1024 * 1024}`), 413);
    const announced = await call(announce(`contentType=image%2Fpng&size=${file.byteLength}`), 201);
    const ticket = announced.json as unknown as UploadTicket;
    expect(announced.res.headers.get("location")).toBe(at(image, id, ticket.imageId));
    await call({ resource: images, path: at(images, id) }, 200);
    await call({ resource: image, path: at(image, id, ticket.imageId) }, 409);

    const client = imageClient(p.stack, p.alice.token);
    const put = await client.put(ticket, await client.encrypt(ticket, file));
    expect(put.status).toBe(200);
    await p.stack.images.idle();
    const listed = await call({ resource: images, path: at(images, id) }, 200);
    expect(listed.json.items).toEqual([expect.objectContaining({ id: ticket.imageId, status: "ready" })]);
    const download = await call({ resource: image, path: at(image, id, ticket.imageId) }, 200);
    expect(download.res.headers.get("content-disposition")).toMatch(/^attachment/);
    await call({ resource: image, path: at(image, id, randomUUID()) }, 404);
  });

  it("export: pages of complete records with their image lists", async () => {
    const first = await call({ resource: exportPath, path: `${exportPath}?limit=1` }, 200);
    expect(first.json.items).toHaveLength(1);
    expect(first.json.nextCursor).toEqual(expect.any(String));
    const all = await call({ resource: exportPath, path: exportPath }, 200);
    const exported = (all.json.items as Record<string, unknown>[]).find((r) => r.id === id);
    expect(exported).toMatchObject({
      fullName: expect.any(String),
      insuranceNumber: expect.any(String),
      images: [expect.objectContaining({ status: "ready", contentType: "image/png" })],
    });
    await call(
      {
        resource: exportPath,
        path: `${exportPath}?cursor=${encodeURIComponent(String(first.json.nextCursor))}`,
      },
      200,
    );
    await call({ resource: exportPath, path: `${exportPath}?limit=51` }, 400);
  });

  it("refusals every route shares: no token 401, another spelling of an id 404, a body that is not a form 415", async () => {
    const body = recordForm({ fullName: "No Token", dateOfBirth: "1990-01-01" });
    for (const [method, resource] of [
      ["POST", records],
      ["GET", records],
      ["GET", record],
      ["POST", record],
      ["DELETE", record],
      ["GET", `${record}/audit`],
      ["POST", images],
      ["GET", images],
      ["GET", image],
      ["GET", exportPath],
      ["DELETE", account],
    ] as const) {
      const path = at(resource, id, randomUUID());
      const write = method === "POST";
      await call({ method, resource, path, token: null, ...(write ? { body } : {}) }, 401);
      if (resource.includes("{id}"))
        await call(
          {
            method,
            resource,
            path: at(resource, id.toUpperCase(), randomUUID()),
            ...(write ? { body } : {}),
          },
          404,
        );
    }
    await call(
      {
        method: "POST",
        resource: records,
        path: records,
        body: "{}",
        headers: { "content-type": "application/json" },
      },
      415,
    );
    await call({ resource: records, path: `${records}?limit=0` }, 400);
    await call({ resource: records, path: `${records}?limit=101` }, 400);
    await call({ resource: records, path: `${records}?view=everything` }, 400);
    await call({ resource: records, path: `${records}?view=names&view=search` }, 400);
    const reused = `openapi-${randomUUID()}`;
    await call(
      { method: "POST", resource: records, path: records, body, headers: { "idempotency-key": reused } },
      201,
    );
    await call(
      {
        method: "POST",
        resource: records,
        path: records,
        body: `${body}&notes=other`,
        headers: { "idempotency-key": reused },
      },
      422,
    );
  });

  it("account: a throwaway user's erasure answers counts and leaves none of their records", async () => {
    const user = await p.newUser("erased");
    const form = recordForm(canaryFields(makeCanaries()));
    await call({ method: "POST", resource: records, path: records, body: form, token: user.token }, 201);
    const erased = await call({ method: "DELETE", resource: account, path: account, token: user.token }, 200);
    expect(erased.json.erased).toMatchObject({ records: 1, images: 0, user: "deleted" });
    // The access token still verifies until it expires, but the erasure revoked its session: 401.
    await call({ resource: records, path: records, token: user.token }, 401);
  });

  it("exercised every route's documented success", () => {
    const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(paths))
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        const success =
          Object.keys(op.responses)
            .map(Number)
            .find((s) => s < 300) ?? 0;
        // PUT is refused at the edge, so its success is documented for direct callers only.
        if (method !== "put" && !seen.get(key)?.has(success)) missing.push(`${key} ${success}`);
      }
    expect(missing).toEqual([]);
  });

  it("seals every answer the description says is sealed, once the stack seals any", () => {
    // Until then the clear answers were checked against the plaintext schema (`allowUnsealed`).
    if (sealing.sealed > 0) expect(sealing.unsealed).toEqual([]);
    expect(sealing.sealed + sealing.unsealed.length).toBeGreaterThan(0);
    expect(sealedAnswer.contentType).toBe("application/vnd.veil.sealed+base64");
  });
});
