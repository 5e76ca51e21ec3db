import { describe, expect, it } from "vitest";
import type { Fetch } from "./run.ts";
import { runSmoke, smokeRecord } from "./run.ts";

const target = {
  url: "https://veil.example.test",
  apiBase: "https://abc.execute-api.eu-central-2.amazonaws.com/v1",
};
const goodHeaders = {
  "strict-transport-security": "max-age=63072000; includeSubDomains; preload",
  "content-security-policy": "default-src 'self'; script-src 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const goodConfig = {
  region: "eu-central-2",
  stage: "dev",
  cognito: { userPoolId: "eu-central-2_AbC123", userPoolClientId: "client", authFlow: "USER_SRP_AUTH" },
  uploadOrigins: ["https://veil-dev-inbox-1.s3.eu-central-2.amazonaws.com"],
  uploadKeySha256: ["pin"],
};
const configHeaders = { "cache-control": "no-cache", "content-type": "application/json" };

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Route = (url: string, init: Parameters<Fetch>[1]) => Reply;

/** A fake deployment: routes decide the reply; every request is recorded. */
function fakeFetch(route: Route) {
  // The browser's client adds a proof to each signed-in call; this stand-in marks them only.
  const apiFetch: Fetch = (url, init) =>
    fetch(url, {
      ...init,
      headers: { ...init?.headers, ...(init?.headers?.authorization ? { dpop: "p" } : {}) },
    });
  const calls: { url: string; init: Parameters<Fetch>[1] }[] = [];
  const fetch: Fetch = async (url, init) => {
    calls.push({ url, init });
    const r = route(url, init);
    const headers = r.headers ?? {};
    return {
      status: r.status,
      headers: {
        forEach: (cb) => {
          for (const [k, v] of Object.entries(headers)) cb(v, k);
        },
      },
      text: async () => (typeof r.body === "string" ? r.body : JSON.stringify(r.body ?? {})),
    };
  };
  return { fetch, apiFetch, calls };
}

/** A healthy stage: API Gateway refuses direct calls; the chain works; FLE round trip succeeds. */
const healthy: Route = (url, init) => {
  if (url.startsWith(target.apiBase))
    return { status: 403, body: { message: "Missing Authentication Token" } };
  if (url === `${target.url}/`) return { status: 200, headers: goodHeaders, body: "<html>" };
  if (url === `${target.url}/config.json`) return { status: 200, headers: configHeaders, body: goodConfig };
  // The edge's body guard: only a POST of exactly the form type gets through.
  if (init?.method === "POST" && init.headers?.["content-type"] !== "application/x-www-form-urlencoded")
    return { status: 415, body: { error: "UnsupportedMediaType", message: "form", requestId: "cf" } };
  const auth = init?.headers?.authorization;
  if (!auth || !init?.headers?.dpop)
    return { status: 401, body: { error: "Unauthorized", message: "Sign in again", requestId: "r" } };
  if (init?.method === "POST") return { status: 201, body: { id: "rec-1", category: "general" } };
  if (init?.method === "DELETE") return { status: 204 };
  return { status: 200, body: { id: "rec-1", ...smokeRecord("run1") } };
};

describe("runSmoke", () => {
  it("passes every check on a healthy stage and sends FLE-able form data", async () => {
    const f = fakeFetch(healthy);
    const verdicts = await runSmoke({
      fetch: f.fetch,
      apiFetch: f.apiFetch,
      target,
      token: "id-token",
      runId: "run1",
    });
    expect(verdicts.map((v) => [v.name, v.ok])).toEqual([
      ["API direct, no key, no signature", true],
      ["API direct, key header but no signature", true],
      ["site security headers", true],
      ["site /config.json", true],
      ["CloudFront → edge signer → API Gateway → handler", true],
      ["edge body guard: a form with a charset is refused before the API", true],
      ["proof of possession: a valid token without a proof gets 401", true],
      ["FLE round trip: create", true],
      ["FLE round trip: read back", true],
    ]);
    const post = f.calls.find((c) => c.init?.method === "POST" && c.init.headers?.authorization)!;
    expect(post.url).toBe(`${target.url}/api/records`);
    expect(post.init?.headers?.["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(new URLSearchParams(post.init?.body).get("fullName")).toBe("Smoke Test run1");
  });

  it("fails when a form with a charset reaches the API instead of being refused at the edge", async () => {
    const f = fakeFetch((url, init) =>
      init?.method === "POST" && !init.headers?.authorization
        ? { status: 401, body: { error: "Unauthorized", message: "Sign in", requestId: "r" } }
        : healthy(url, init),
    );
    const guard = (
      await runSmoke({ fetch: f.fetch, apiFetch: f.apiFetch, target, token: "t", runId: "run1" })
    ).find((v) => v.name.startsWith("edge body guard"))!;
    expect(guard).toMatchObject({ ok: false, detail: expect.stringMatching(/in clear/) });
  });

  it("fails when the API answers a direct, unsigned call", async () => {
    const f = fakeFetch((url, init) =>
      url.startsWith(target.apiBase) ? { status: 200, body: [] } : healthy(url, init),
    );
    const verdicts = await runSmoke({
      fetch: f.fetch,
      apiFetch: f.apiFetch,
      target,
      token: "t",
      runId: "run1",
    });
    expect(verdicts.slice(0, 2).map((v) => v.ok)).toEqual([false, false]);
  });

  it("names a signature mismatch through CloudFront as the FLE ordering problem", async () => {
    const mismatch = {
      status: 403,
      body: { message: "The request signature we calculated does not match the signature you provided." },
    };
    const f = fakeFetch((url, init) =>
      url === `${target.url}/api/records` && init?.method === "POST" ? mismatch : healthy(url, init),
    );
    const create = (
      await runSmoke({ fetch: f.fetch, apiFetch: f.apiFetch, target, token: "t", runId: "run1" })
    ).find((v) => v.name.endsWith("create"))!;
    expect(create.ok).toBe(false);
    expect(create.detail).toMatch(/FLE ordering/);
  });

  it("reports plaintext reaching the handler (FLE not applied)", async () => {
    const bad = {
      status: 400,
      body: { error: "BadRequest", message: "The request could not be read", requestId: "r" },
    };
    const f = fakeFetch((url, init) => (init?.method === "POST" ? bad : healthy(url, init)));
    const create = (
      await runSmoke({ fetch: f.fetch, apiFetch: f.apiFetch, target, token: "t", runId: "run1" })
    ).find((v) => v.name.endsWith("create"))!;
    expect(create.detail).toMatch(/FLE not applied/);
  });

  it("fails when the edge's request is refused by API Gateway, and when headers are missing", async () => {
    const f = fakeFetch((url, init) => {
      if (url === `${target.url}/`) return { status: 200, headers: { "x-content-type-options": "nosniff" } };
      if (url === `${target.url}/api/records` && !init?.headers?.authorization)
        return { status: 403, body: { message: "Forbidden" } };
      return healthy(url, init);
    });
    const v = await runSmoke({ fetch: f.fetch, apiFetch: f.apiFetch, target, token: "t", runId: "run1" });
    expect(v.find((x) => x.name === "site security headers")).toMatchObject({ ok: false });
    expect(v.find((x) => x.name.startsWith("CloudFront"))).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/refused/),
    });
  });

  it("does not pass without a test user's token and never echoes bodies", async () => {
    const f = fakeFetch(healthy);
    const verdicts = await runSmoke({ fetch: f.fetch, target, runId: "run1" });
    expect(verdicts.at(-1)).toMatchObject({ ok: false, detail: expect.stringMatching(/VEIL_SMOKE_TOKEN/) });
    // No record is created: the only POST is the body-guard probe, which the edge refuses.
    expect(f.calls.some((c) => c.init?.method === "POST" && c.init.headers?.authorization)).toBe(false);
    const h = fakeFetch(healthy);
    const all = await runSmoke({ fetch: h.fetch, apiFetch: h.apiFetch, target, token: "t", runId: "run1" });
    expect(JSON.stringify(all)).not.toContain("Smoke Test run1");
  });

  it("fails when /config.json is missing, cached, or names no pool, SRP flow or pinned upload key", async () => {
    for (const reply of [
      { status: 404 },
      { status: 200, headers: {}, body: goodConfig },
      { status: 200, headers: configHeaders, body: { ...goodConfig, uploadKeySha256: [] } },
      {
        status: 200,
        headers: configHeaders,
        body: { ...goodConfig, cognito: { ...goodConfig.cognito, authFlow: "USER_PASSWORD_AUTH" } },
      },
    ]) {
      const f = fakeFetch((url, init) => (url === `${target.url}/config.json` ? reply : healthy(url, init)));
      const verdicts = await runSmoke({
        fetch: f.fetch,
        apiFetch: f.apiFetch,
        target,
        token: "t",
        runId: "r",
      });
      expect(verdicts.find((v) => v.name === "site /config.json")?.ok).toBe(false);
    }
  });

  it("fails the proof check when a token alone (no proof) is accepted", async () => {
    const f = fakeFetch((url, init) =>
      init?.headers?.authorization && !init.headers.dpop && init.method === undefined
        ? { status: 200, body: { items: [] } }
        : healthy(url, init),
    );
    const v = await runSmoke({ fetch: f.fetch, apiFetch: f.apiFetch, target, token: "t", runId: "run1" });
    expect(v.find((x) => x.name.startsWith("proof of possession"))).toMatchObject({ ok: false });
  });
});
