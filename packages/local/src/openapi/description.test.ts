/**
 * docs/openapi.json is a valid OpenAPI 3.1 document (checked by @readme/openapi-parser), every schema
 * in it compiles under Ajv's strict draft 2020-12, every route any function serves is described, and
 * the answer checker the whole-stack test uses catches answers that break the description.
 */

import { validate } from "@readme/openapi-parser";
import { sealedAnswer } from "@veil/core";
import { manifest } from "@veil/functions/manifest";
import { describe, expect, it } from "vitest";
import { createAnswerChecker, readOpenApiDocument, schemaValidator } from "./answers.ts";

const doc = readOpenApiDocument();
const paths = doc.paths as Record<string, Record<string, unknown>>;
const recordId = "0b9d2c9e-8a4f-4a57-9a3c-3f1e2d4c5b6a";

describe("docs/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(doc.openapi).toMatch(/^3\.1\./);
  });

  it("has schemas that compile under Ajv's strict draft 2020-12", () => {
    const compile = schemaValidator(doc);
    const schemas = (doc.components as { schemas: Record<string, unknown> }).schemas;
    for (const [name, schema] of Object.entries(schemas)) expect(() => compile(schema), name).not.toThrow();
  });

  it("describes every route every function of the manifest serves", () => {
    const served = Object.values(manifest).flatMap((f) => f.routes.map((r) => `${r.method} ${r.resource}`));
    expect(served.length).toBeGreaterThan(0);
    const described = Object.entries(paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const missing = served.filter((k) => !described.includes(k));
    expect(missing, "describe them in packages/core/src/openapi/routes.ts, then run `pnpm openapi`").toEqual(
      [],
    );
  });
});

describe("the answer checker", () => {
  const check = createAnswerChecker(doc);
  const lenient = createAnswerChecker(doc, { allowUnsealed: true });
  const metadata = {
    id: recordId,
    category: "general",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    version: 1,
  };
  const jsonHeaders = (extra: Record<string, string> = {}) =>
    new Headers({ "content-type": "application/json; charset=utf-8", "x-veil-request-id": "r1", ...extra });
  const sealedHeaders = (extra: Record<string, string> = {}) =>
    new Headers({
      "content-type": sealedAnswer.contentType,
      [sealedAnswer.plaintextTypeHeader]: "application/json",
      "x-veil-request-id": "r1",
      ...extra,
    });
  const read = (opened: unknown, headers = sealedHeaders({ etag: '"1"' }), body = "AYAAFA==") => ({
    method: "GET",
    resource: "/api/records/{id}",
    status: 200,
    headers,
    body,
    opened,
  });

  it("accepts a sealed answer whose plaintext matches, and an error body", () => {
    const ok = check(read({ ...metadata, fullName: "A Name", dateOfBirth: "1990-01-01" }));
    expect(ok).toEqual({ problems: [], sealed: true, unsealed: false });
    const error = { error: "NotFound", message: "No such record", requestId: "r1" };
    const notFound = { ...read(undefined, jsonHeaders(), JSON.stringify(error)), status: 404 };
    expect(check(notFound).problems).toEqual([]);
  });

  it("refuses a plaintext with an undocumented or malformed field, or a missing required one", () => {
    const withExtra = check(read({ ...metadata, fullName: "A", dateOfBirth: "1990-01-01", ciphertext: "x" }));
    expect(withExtra.problems.join()).toMatch(/additional properties/);
    expect(check(read({ ...metadata, fullName: "A" })).problems.join()).toMatch(/dateOfBirth/);
    const tooLong = check(read({ ...metadata, fullName: "A".repeat(201), dateOfBirth: "1990-01-01" }));
    expect(tooLong.problems.join()).toMatch(/fullName must NOT have more than 200/);
  });

  it("refuses an unsealed 2xx answer unless told, a body that is not base64, and an unopened answer", () => {
    const clear = read(undefined, jsonHeaders({ etag: '"1"' }), JSON.stringify(metadata));
    expect(check(clear).problems.join()).toMatch(/content-type "application\/json"/);
    expect(lenient(clear)).toMatchObject({ unsealed: true });
    expect(lenient(clear).problems.join()).toMatch(/fullName/);
    expect(check(read(metadata, sealedHeaders({ etag: '"1"' }), "{not base64}")).problems.join()).toMatch(
      /not base64/,
    );
    expect(check(read(undefined)).problems.join()).toMatch(/not opened/);
  });

  it("refuses missing or malformed headers, undocumented statuses and error bodies with extra fields", () => {
    const opened = { ...metadata, fullName: "A", dateOfBirth: "1990-01-01" };
    const noId = new Headers(sealedHeaders({ etag: '"1"' }));
    noId.delete("x-veil-request-id");
    expect(check(read(opened, noId)).problems.join()).toMatch(/x-veil-request-id missing/);
    expect(check(read(opened, sealedHeaders({ etag: "1" }))).problems.join()).toMatch(/header ETag/);
    expect(check({ ...read(opened), status: 418 }).problems.join()).toMatch(/status not documented/);
    const leaky = { error: "InternalError", message: "x", requestId: "r", stack: "at …" };
    const error = { ...read(undefined, jsonHeaders(), JSON.stringify(leaky)), status: 500 };
    expect(check(error).problems.join()).toMatch(/additional properties/);
  });
});
