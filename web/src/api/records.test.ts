import { sensitiveFields, writableFields } from "@veil/core";
import { describe, expect, it } from "vitest";
import type { ApiClient, ApiRequest } from "./client.ts";
import {
  emptyRecordForm,
  encodeRecordForm,
  formFromRecord,
  newIdempotencyKey,
  recordsApi,
} from "./records.ts";

function recordingClient(response: { status?: number; body?: unknown; etag?: string } = {}) {
  const requests: ApiRequest[] = [];
  const call = (async (request: ApiRequest) => {
    requests.push(request);
    return { status: response.status ?? 200, body: response.body ?? {}, etag: response.etag };
  }) as ApiClient;
  return { api: recordsApi(call), requests };
}

describe("record forms", () => {
  it("has exactly the classification's writable fields", () => {
    expect(Object.keys(emptyRecordForm()).sort()).toEqual([...writableFields].sort());
  });

  it("encodes only writable fields, leaving empty ones out", () => {
    const values = { ...emptyRecordForm(), category: "general", fullName: "Ada", notes: "a+b=c & d%" };
    const body = encodeRecordForm({ ...values, injected: "x" } as typeof values);
    expect([...body.keys()]).toEqual(["category", "fullName", "notes"]);
    expect(new URLSearchParams(body.toString()).get("notes")).toBe("a+b=c & d%");
  });

  it("fills the edit form from a record, never carrying its metadata", () => {
    const values = formFromRecord({
      id: "r",
      category: "general",
      createdAt: "",
      updatedAt: "",
      version: 3,
      fullName: "Ada",
    });
    expect(values.fullName).toBe("Ada");
    expect(values).not.toHaveProperty("id");
    expect(values).not.toHaveProperty("version");
  });

  it("makes idempotency keys the API accepts, a new one each time", () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});

describe("records API", () => {
  it("creates with an Idempotency-Key and a form body", async () => {
    const { api, requests } = recordingClient({ status: 201, body: { id: "r1" } });
    await api.create({ ...emptyRecordForm(), category: "general", fullName: "Ada" }, "key-12345678");
    expect(requests[0]).toMatchObject({
      method: "POST",
      path: "/api/records",
      headers: { "idempotency-key": "key-12345678" },
    });
    expect(requests[0]?.form?.get("fullName")).toBe("Ada");
  });

  it("updates with POST (FLE covers POST bodies only) and If-Match", async () => {
    const { api, requests } = recordingClient();
    await api.update("r1", 4, { ...emptyRecordForm(), category: "general" });
    expect(requests[0]).toMatchObject({
      method: "POST",
      path: "/api/records/r1",
      headers: { "if-match": '"4"' },
    });
  });

  it("takes the version from the ETag of a read", async () => {
    const { api } = recordingClient({ body: { id: "r1", version: 1 }, etag: '"7"' });
    await expect(api.get("r1")).resolves.toMatchObject({ version: 7 });
  });

  it("never puts a field value in a URL", async () => {
    const { api, requests } = recordingClient({ body: { items: [] } });
    const values = { ...emptyRecordForm(), category: "general" };
    for (const f of sensitiveFields) values[f] = `canary-${f}`;
    await api.create(values, "key-12345678");
    await api.update("r1", 1, values);
    await api.list({ cursor: "c", limit: 5 });
    await api.audit("r1");
    await api.remove("r1", 2);
    for (const r of requests) expect(r.path).not.toContain("canary");
  });

  it("asks for a list view by name; the default view (names) needs no parameter", async () => {
    const { api, requests } = recordingClient({ body: { items: [] } });
    await api.list();
    await api.list({ limit: 50, cursor: "c1" });
    await api.list({ view: "search", limit: 100 });
    await api.list({ view: "metadata" });
    expect(requests.map((r) => [r.method, r.path])).toEqual([
      ["GET", "/api/records"],
      ["GET", "/api/records?limit=50&cursor=c1"],
      ["GET", "/api/records?view=search&limit=100"],
      ["GET", "/api/records?view=metadata"],
    ]);
  });

  it("escapes ids in paths", async () => {
    const { api, requests } = recordingClient();
    await api.remove("../x?y");
    expect(requests[0]?.path).toBe("/api/records/..%2Fx%3Fy");
  });
});
