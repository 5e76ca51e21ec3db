import { headers as headerNames } from "@veil/core";
import { describe, expect, it, vi } from "vitest";
import { createApiClient, toApiError } from "./client.ts";
import { ApiError, NetworkError, SessionExpiredError } from "./errors.ts";

interface Sent {
  url: string;
  init: RequestInit;
}

function fakeFetch(respond: (sent: Sent) => Response) {
  const sent: Sent[] = [];
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const s = { url: String(url), init: init ?? {} };
    sent.push(s);
    return respond(s);
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("API client", () => {
  it("sends the bearer token and forms url-encoded, never as JSON", async () => {
    const { fetch, sent } = fakeFetch(() => json(201, { id: "r1" }, { etag: '"1"' }));
    const call = createApiClient({ accessToken: async () => "tok", fetch });
    const res = await call<{ id: string }>({
      method: "POST",
      path: "/api/records",
      form: new URLSearchParams({ fullName: "A B" }),
    });
    expect(res).toEqual({ status: 201, body: { id: "r1" }, etag: '"1"' });
    const h = sent[0]?.init.headers as Record<string, string>;
    expect(h.authorization).toBe("Bearer tok");
    // Exactly what CloudFront FLE encrypts: a charset parameter would be refused at the edge.
    expect(h["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(sent[0]?.init.body).toBe("fullName=A+B");
    expect(sent[0]?.init.credentials).toBe("omit");
    expect(sent[0]?.init.cache).toBe("no-store");
  });

  it("sends nothing without a token and reports the session as ended", async () => {
    const { fetch, sent } = fakeFetch(() => json(200, {}));
    const onUnauthorized = vi.fn();
    const call = createApiClient({ accessToken: async () => undefined, fetch, onUnauthorized });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(SessionExpiredError);
    expect(sent).toHaveLength(0);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("turns a 401 into a sign-out", async () => {
    const { fetch } = fakeFetch(() => json(401, { error: "Unauthorized", message: "no", requestId: "r" }));
    const onUnauthorized = vi.fn();
    const call = createApiClient({ accessToken: async () => "tok", fetch, onUnauthorized });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(SessionExpiredError);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it("reports a failed connection as a NetworkError", async () => {
    const fetch = (async () => {
      throw new TypeError("Failed to fetch");
    }) as unknown as typeof globalThis.fetch;
    const call = createApiClient({ accessToken: async () => "tok", fetch });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(NetworkError);
  });

  it("returns no body for 204", async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 204 }));
    const call = createApiClient({ accessToken: async () => "tok", fetch });
    await expect(call({ method: "DELETE", path: "/api/records/x" })).resolves.toMatchObject({ status: 204 });
  });
});

describe("error answers", () => {
  it("keeps a ValidationError's field details", async () => {
    const err = await toApiError(
      json(400, {
        error: "ValidationError",
        message: "invalid input",
        requestId: "req-1",
        details: [{ field: "email", code: "invalid", message: "E-mail must be an e-mail address" }, "junk"],
      }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(400);
    expect(err.code).toBe("ValidationError");
    expect(err.details).toEqual([
      { field: "email", code: "invalid", message: "E-mail must be an e-mail address" },
    ]);
  });

  it("gives a generic message and the request id for server errors", async () => {
    const err = await toApiError(
      json(500, { error: "Internal", message: "stack trace with secrets", requestId: "req-9" }),
    );
    expect(err.isServerError).toBe(true);
    expect(err.message).not.toContain("secrets");
    expect(err.requestId).toBe("req-9");
  });

  it("reads the edge's errors and non-JSON answers", async () => {
    const edge = await toApiError(json(502, { message: "OriginConnectError", requestId: "cf-1" }));
    expect(edge).toMatchObject({ status: 502, code: "OriginConnectError", requestId: "cf-1" });
    const html = await toApiError(
      new Response("<html>bad gateway</html>", { status: 504, headers: { [headerNames.requestId]: "h-1" } }),
    );
    expect(html).toMatchObject({ status: 504, code: "Http504", requestId: "h-1" });
  });

  it("explains conflicts and failed preconditions (a stale If-Match) in words", async () => {
    for (const status of [409, 412]) {
      const err = await toApiError(new Response("", { status }));
      expect(err.message, String(status)).toMatch(/changed/);
    }
  });
});
