import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as api from "../api.ts";
import { recordFields, sensitiveFields } from "../classification.ts";
import { idempotencyKeyPattern } from "../headers.ts";
import { sealedAnswer } from "../sealing.ts";
import {
  apiRouteTables,
  buildOpenApiDocument,
  commonErrors,
  routeKey,
  undocumentedRoutes,
} from "./document.ts";
import { routeDocs } from "./routes.ts";

// biome-ignore lint/suspicious/noExplicitAny: the test walks a JSON document
type Json = Record<string, any>;
const doc = buildOpenApiDocument() as Json;
const schemas = doc.components.schemas as Record<string, Json>;
const operations = Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(
  ([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
);

describe("the API description covers every route", () => {
  it("describes every route table that api.ts exports", () => {
    const tables = Object.entries(api).filter(
      ([, v]) =>
        Array.isArray(v) && v.length > 0 && v.every((r) => r && typeof r === "object" && "resource" in r),
    );
    expect(tables.length).toBeGreaterThan(0);
    const described = new Set(Object.values(apiRouteTables));
    for (const [name, table] of tables)
      expect(described.has(table as never), `${name} is not in apiRouteTables (openapi/document.ts)`).toBe(
        true,
      );
  });

  it("has a description for every route and no description without a route", () => {
    const { undocumented, unrouted } = undocumentedRoutes();
    expect(undocumented, "add them to packages/core/src/openapi/routes.ts").toEqual([]);
    expect(unrouted).toEqual([]);
    const routed = Object.values(apiRouteTables).flat().map(routeKey).sort();
    expect(operations.map((o) => o.key).sort()).toEqual(routed);
  });

  it("refuses to build with an undocumented route or a description of no route", () => {
    const extra = { ...apiRouteTables, later: [{ method: "GET", resource: "/api/later" }] };
    expect(() => buildOpenApiDocument({ tables: extra })).toThrow(
      /routes without a description in packages\/core\/src\/openapi\/routes\.ts: GET \/api\/later/,
    );
    const { "GET /api/records/{id}/audit": _gone, ...fewer } = routeDocs;
    expect(() => buildOpenApiDocument({ docs: fewer })).toThrow(/GET \/api\/records\/\{id\}\/audit/);
    expect(() =>
      buildOpenApiDocument({ docs: { ...routeDocs, "GET /api/nowhere": routeDocs["GET /api/records"] } }),
    ).toThrow(/descriptions of no route: GET \/api\/nowhere/);
  });

  it("docs/openapi.json is what `pnpm openapi` writes (run it after changing a route or a field)", () => {
    const committed = JSON.parse(
      readFileSync(join(import.meta.dirname, "../../../../docs/openapi.json"), "utf8"),
    );
    expect(committed).toEqual(doc);
  });
});

describe("schemas follow the classification", () => {
  it("marks exactly the sensitive fields x-veil-sensitive, with the classification's limits", () => {
    for (const name of ["Record", "RecordForm", "RecordListItem", "ExportedRecord"]) {
      const props = schemas[name]?.properties as Record<string, Json>;
      for (const [field, schema] of Object.entries(props)) {
        const spec = recordFields[field as keyof typeof recordFields];
        if (!spec) continue;
        expect(schema["x-veil-sensitive"] === true, `${name}.${field}`).toBe(spec.classification === "high");
        expect(schema.maxLength, `${name}.${field}`).toBe(spec.maxLength);
      }
      if (name !== "RecordListItem")
        for (const field of sensitiveFields) expect(props[field], `${name}.${field}`).toBeDefined();
    }
    expect(schemas.RecordForm?.required).toEqual(
      Object.entries(recordFields)
        .filter(([, s]) => s.required)
        .map(([n]) => n),
    );
  });

  it("metadata, audit trails and erasure reports carry no sensitive field", () => {
    const text = JSON.stringify([schemas.RecordMetadata, schemas.AuditTrail, schemas.AccountErasure]);
    expect(text).not.toContain("x-veil-sensitive");
    for (const field of sensitiveFields) expect(text).not.toContain(`"${field}"`);
  });

  it("list items carry the search view's fields at most, each marked sensitive and optional", () => {
    const item = schemas.RecordListItem as Json;
    const sensitive = Object.entries(item.properties as Record<string, Json>)
      .filter(([, s]) => s["x-veil-sensitive"] === true)
      .map(([n]) => n);
    expect(sensitive).toEqual(["fullName", "dateOfBirth", "insuranceNumber", "diagnosis"]);
    expect(item.required).toEqual(schemas.RecordMetadata?.required);
    expect(schemas.RecordList?.properties.items.items).toEqual({
      $ref: "#/components/schemas/RecordListItem",
    });
  });
});

describe("answers, requests and errors", () => {
  it("seals every successful answer with a body; the plaintext schema is contentSchema", () => {
    for (const { key, op } of operations) {
      const [status, success] = Object.entries(op.responses as Record<string, Json>)[0] ?? [];
      expect(Number(status), key).toBeLessThan(300);
      const content = success?.content as Record<string, Json> | undefined;
      if (!content) {
        expect(status, key).toBe("204");
        continue;
      }
      expect(Object.keys(content), key).toHaveLength(1);
      const [type, media] = Object.entries(content)[0] as [string, Json];
      expect([sealedAnswer.contentType, sealedAnswer.streamContentType], key).toContain(type);
      if (type === sealedAnswer.contentType) {
        expect(media.schema).toMatchObject({ type: "string", contentEncoding: "base64" });
        expect(schemas[String(media.schema.contentSchema.$ref).split("/").pop() ?? ""], key).toBeDefined();
      }
      expect(Object.keys(success?.headers ?? {}), key).toContain(sealedAnswer.plaintextTypeHeader);
    }
  });

  it("takes only url-encoded bodies, and answers errors unsealed with { error, message, requestId }", () => {
    for (const { key, op } of operations) {
      if (op.requestBody)
        expect(Object.keys(op.requestBody.content), key).toEqual(["application/x-www-form-urlencoded"]);
      const statuses = Object.keys(op.responses).map(Number);
      for (const s of commonErrors) expect(statuses, key).toContain(s);
    }
    for (const [name, response] of Object.entries(doc.components.responses as Record<string, Json>)) {
      // The API's own errors are JSON; the platform in front of it (CloudFront, WAF) may answer HTML.
      expect(Object.keys(response.content)[0], name).toBe("application/json");
      expect(
        Object.keys(response.content).filter((t) => t !== "text/html"),
        name,
      ).toEqual(["application/json"]);
    }
    for (const status of [400, 401, 404, 409, 412, 415, 422, 428, 500, 503])
      expect(Object.keys(doc.components.responses[`E${status}`].content), String(status)).toEqual([
        "application/json",
      ]);
    expect(schemas.Error?.required).toEqual(["error", "message", "requestId"]);
    expect(doc.security).toEqual([{ bearer: [], dpop: [] }]);
    expect(doc.components.securitySchemes.dpop).toMatchObject({ type: "apiKey", in: "header", name: "DPoP" });
  });

  it("gives each route the statuses its handler can answer", () => {
    const statuses = (key: string) =>
      Object.keys(operations.find((o) => o.key === key)?.op.responses ?? {}).map(Number);
    expect(statuses("POST /api/records/{id}")).toEqual(
      expect.arrayContaining([200, 400, 404, 412, 415, 428]),
    );
    expect(statuses("PUT /api/records/{id}")).toContain(405);
    expect(statuses("POST /api/records")).toEqual(expect.arrayContaining([201, 400, 409, 415, 422]));
    expect(statuses("DELETE /api/records/{id}")).toEqual(expect.arrayContaining([204, 404, 412]));
    expect(statuses("POST /api/records/{id}/images")).toContain(413);
    expect(statuses("GET /api/records")).toEqual(expect.arrayContaining([200, 400]));
    expect(statuses("GET /api/export")).toEqual(expect.arrayContaining([200, 400]));
    expect(statuses("DELETE /api/account")).toEqual(expect.arrayContaining([200, 401, 500, 503]));
  });

  it("describes the list's views and the export's page size from their sources", () => {
    const params = doc.components.parameters as Record<string, Json>;
    expect(params.view?.schema).toMatchObject({ enum: ["names", "search", "metadata"], default: "names" });
    expect(params.exportLimit?.schema).toMatchObject({ maximum: api.exportPageLimit });
    expect(params.idempotencyKey?.schema.pattern).toBe(idempotencyKeyPattern.source);
    expect(doc["x-veil-sealing"]).toMatchObject({
      algorithmSuite: sealedAnswer.algorithmSuite,
      commitmentPolicy: sealedAnswer.commitmentPolicy,
      streamFrameLength: sealedAnswer.frameLength,
    });
  });

  it("resolves every $ref", () => {
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const r of new Set(refs)) {
      const path = r.slice(8, -1).replace(/^#\//, "").split("/");
      let at: unknown = doc;
      for (const part of path) at = (at as Json | undefined)?.[part];
      expect(at, r).toBeDefined();
    }
  });
});
