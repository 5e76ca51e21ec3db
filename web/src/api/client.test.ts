import { createHash } from "node:crypto";
import { AlgorithmSuiteIdentifier } from "@aws-crypto/client-node";
import { headers as headerNames, proofOfPossession, sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from "jose";
import { describe, expect, it, vi } from "vitest";
import { accessTokenFor, memoryKeyStore, proofOf, seal, sealedResponse } from "../testing/sealed-answers.ts";
import { createApiClient, toApiError } from "./client.ts";
import {
  ApiError,
  NetworkError,
  SealedAnswerError,
  SessionExpiredError,
  SessionKeysLostError,
  SessionNotBoundError,
} from "./errors.ts";
import { createSessionKeyring } from "./session-keys.ts";

// The browser Encryption SDK finds WebCrypto on `window` or `self` when it loads; Node has it on
// `globalThis`.
vi.hoisted(() => {
  (globalThis as { self?: unknown }).self ??= globalThis;
});

interface Sent {
  url: string;
  init: RequestInit;
}

type Respond = (sent: Sent) => Response | Promise<Response>;

function fakeFetch(respond: Respond) {
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

// One signed-in session for the file: RSA-3072 key generation takes seconds on a busy machine.
const baseUrl = "https://veil.example";
const store = memoryKeyStore();
const keyring = createSessionKeyring({ store });
keyring.signingIn();
const token = accessTokenFor("ada");

function client(respond: Respond, options: { onUnauthorized?: () => void } = {}) {
  const { fetch, sent } = fakeFetch(respond);
  const call = createApiClient({ accessToken: async () => token, keys: keyring, fetch, baseUrl, ...options });
  return { call, sent };
}

const sentHeaders = (s: Sent | undefined) => new Headers(s?.init.headers);

describe("API client", { timeout: 30_000 }, () => {
  it("sends the bearer token, a proof and forms url-encoded, never as JSON", async () => {
    const { call, sent } = client((s) =>
      sealedResponse(s.init.headers, { id: "r1" }, { status: 201, headers: { etag: '"1"' } }),
    );
    const res = await call<{ id: string }>({
      method: "POST",
      path: "/api/records",
      form: new URLSearchParams({ fullName: "A B" }),
    });
    expect(res).toEqual({ status: 201, body: { id: "r1" }, etag: '"1"' });
    const h = sentHeaders(sent[0]);
    expect(h.get("authorization")).toBe(`Bearer ${token}`);
    expect(h.get(proofOfPossession.header)).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // Exactly what CloudFront FLE encrypts: a charset parameter would be refused at the edge.
    expect(h.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(sent[0]?.init.body).toBe("fullName=A+B");
    expect(sent[0]?.init.credentials).toBe("omit");
    expect(sent[0]?.init.cache).toBe("no-store");
  });

  it("sends nothing without a token and reports the session as ended", async () => {
    const { fetch, sent } = fakeFetch(() => json(200, {}));
    const onUnauthorized = vi.fn();
    const call = createApiClient({
      accessToken: async () => undefined,
      keys: keyring,
      fetch,
      onUnauthorized,
    });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(SessionExpiredError);
    expect(sent).toHaveLength(0);
    expect(onUnauthorized).toHaveBeenCalledWith("expired");
  });

  it("turns a 401 into a sign-out", async () => {
    const onUnauthorized = vi.fn();
    let refused = false;
    const { call } = client(
      (s) =>
        refused
          ? json(401, { error: "Unauthorized", message: "no", requestId: "r" })
          : sealedResponse(s.init.headers, { items: [] }),
      { onUnauthorized },
    );
    await call({ method: "GET", path: "/api/records" }); // the session is bound to this browser's keys
    refused = true;
    const err = await call({ method: "GET", path: "/api/records" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionExpiredError);
    expect(err).not.toBeInstanceOf(SessionKeysLostError);
    expect(err).not.toBeInstanceOf(SessionNotBoundError);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("expired");
  });

  it("says the browser could not be linked when a new sign-in's first requests get 401", async () => {
    // Another party bound the session to its own key first: every request of this browser gets 401.
    let refused = true;
    const { fetch } = fakeFetch((s) =>
      refused
        ? json(401, { error: "Unauthorized", message: "no", requestId: "r" })
        : sealedResponse(s.init.headers, { items: [] }),
    );
    const onUnauthorized = vi.fn();
    const ring = createSessionKeyring({ store: memoryKeyStore() });
    ring.signingIn();
    const fresh = accessTokenFor("ada", "fresh-session");
    const call = createApiClient({
      accessToken: async () => fresh,
      keys: ring,
      fetch,
      baseUrl,
      onUnauthorized,
    });
    const err = await call({ method: "GET", path: "/api/records" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionNotBoundError);
    expect(err).toBeInstanceOf(SessionExpiredError); // every caller that signs out on 401 still does
    expect((err as Error).message).toMatch(/could not be linked to your sign-in.*intercepted/s);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("notBound");
    // Once an answer came, a later 401 is an ended session again.
    refused = false;
    await call({ method: "GET", path: "/api/records" });
    refused = true;
    onUnauthorized.mockClear();
    await expect(call({ method: "GET", path: "/api/records" })).rejects.not.toBeInstanceOf(
      SessionNotBoundError,
    );
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("expired");
  });

  it("takes keys stored by an earlier page as bound: a 401 after a reload is an ended session", async () => {
    const shared = memoryKeyStore();
    const first = createSessionKeyring({ store: shared });
    first.signingIn();
    const reloadToken = accessTokenFor("ada", "reload-session");
    await first.forToken(reloadToken);
    const onUnauthorized = vi.fn();
    const { fetch } = fakeFetch(() => json(401, { error: "Unauthorized", message: "no", requestId: "r" }));
    const call = createApiClient({
      accessToken: async () => reloadToken,
      keys: createSessionKeyring({ store: shared }),
      fetch,
      baseUrl,
      onUnauthorized,
    });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(SessionExpiredError);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("expired");
  });

  it("says so when a 401 follows keys made again for a session begun before this page", async () => {
    const { fetch } = fakeFetch(() => json(401, { error: "Unauthorized", message: "no", requestId: "r" }));
    const onUnauthorized = vi.fn();
    // A reload whose stored keys are gone: no sign-in in this page, nothing in the store.
    const call = createApiClient({
      accessToken: async () => token,
      keys: createSessionKeyring({ store: memoryKeyStore() }),
      fetch,
      baseUrl,
      onUnauthorized,
    });
    const err = await call({ method: "GET", path: "/api/records" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionKeysLostError);
    expect((err as Error).message).toMatch(/no longer holds the keys/);
    expect(onUnauthorized).toHaveBeenCalledExactlyOnceWith("keysLost");
  });

  it("does not sign out a new session for a 401 answering a request of the one before", async () => {
    const onUnauthorized = vi.fn();
    let current = accessTokenFor("ada", "old-session");
    const { fetch } = fakeFetch(() => {
      current = accessTokenFor("ada", "new-session"); // signed out and in while the request was under way
      return json(401, { error: "Unauthorized", message: "no", requestId: "r" });
    });
    const call = createApiClient({
      accessToken: async () => current,
      keys: keyring,
      fetch,
      baseUrl,
      onUnauthorized,
    });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(SessionExpiredError);
    expect(onUnauthorized).not.toHaveBeenCalled();
    // Nor when the user has signed out meanwhile (no token any more): no message on the sign-in page.
    const signedOut = createApiClient({
      accessToken: async () => (fetched ? undefined : token),
      keys: keyring,
      fetch: async () => {
        fetched = true;
        return json(401, { error: "Unauthorized", message: "no", requestId: "r" });
      },
      baseUrl,
      onUnauthorized,
    });
    let fetched = false;
    await expect(signedOut({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(
      SessionExpiredError,
    );
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it("reports a failed connection as a NetworkError", async () => {
    const { call } = client(() => {
      throw new TypeError("Failed to fetch");
    });
    await expect(call({ method: "GET", path: "/api/records" })).rejects.toBeInstanceOf(NetworkError);
  });

  it("returns no body for 204", async () => {
    const { call } = client(() => new Response(null, { status: 204 }));
    await expect(call({ method: "DELETE", path: "/api/records/x" })).resolves.toMatchObject({ status: 204 });
  });

  it("keeps error answers plain JSON, as the API sends them", async () => {
    const { call } = client(() =>
      json(400, {
        error: "ValidationError",
        message: "invalid input",
        requestId: "req-1",
        details: [{ field: "email", code: "invalid", message: "E-mail must be an e-mail address" }],
      }),
    );
    await expect(call({ method: "POST", path: "/api/records" })).rejects.toMatchObject({
      status: 400,
      code: "ValidationError",
      details: [{ field: "email" }],
    });
  });
});

describe("proofs of possession", { timeout: 30_000 }, () => {
  it("carry a signed ES256 dpop+jwt with method, URL, time, a fresh jti, the token hash and the seal key", async () => {
    const { call, sent } = client((s) => sealedResponse(s.init.headers, { items: [] }));
    const before = Math.floor(Date.now() / 1000);
    await call({ method: "GET", path: "/api/records?limit=5&cursor=abc" });
    await call({ method: "GET", path: "/api/records?limit=5&cursor=abc" });
    const jwts = sent.map((s) => sentHeaders(s).get(proofOfPossession.header) ?? "");
    const { payload, protectedHeader } = await jwtVerify(jwts[0] ?? "", EmbeddedJWK, {
      typ: proofOfPossession.type,
      algorithms: [proofOfPossession.algorithm],
    });
    const keys = await keyring.forToken(token);
    expect(protectedHeader).toMatchObject({ typ: "dpop+jwt", alg: "ES256", jwk: keys.proofJwk });
    expect(payload.htm).toBe("GET");
    expect(payload.htu).toBe(`${baseUrl}/api/records`);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    expect(payload.jti).toMatch(/^[\w-]{22,}$/);
    expect(Buffer.from(String(payload.jti), "base64url").byteLength).toBeGreaterThanOrEqual(16);
    expect(payload.ath).toBe(createHash("sha256").update(token).digest("base64url"));
    expect(payload[proofOfPossession.sealKeyClaim]).toEqual(keys.sealJwk);
    // Each request its own jti, the same key.
    const second = decodeProtectedHeader(jwts[1] ?? "");
    expect(proofOf(sent[1]?.init.headers).jti).not.toBe(payload.jti);
    expect(await calculateJwkThumbprint(second.jwk ?? {})).toBe(
      await calculateJwkThumbprint(protectedHeader.jwk ?? {}),
    );
  });

  it("name the method and the path of each request", async () => {
    const { call, sent } = client((s) =>
      s.init.method === "DELETE" ? new Response(null, { status: 204 }) : sealedResponse(s.init.headers, {}),
    );
    await call({ method: "POST", path: "/api/records/r%2F1", form: new URLSearchParams({ a: "b" }) });
    await call({ method: "DELETE", path: "/api/records/r1" });
    const claims = sent.map((s) => {
      const [, body = ""] = (sentHeaders(s).get(proofOfPossession.header) ?? "").split(".");
      return JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    });
    expect(claims.map((c) => [c.htm, c.htu])).toEqual([
      ["POST", `${baseUrl}/api/records/r%2F1`],
      ["DELETE", `${baseUrl}/api/records/r1`],
    ]);
  });

  it("use the same keys in every client of the session, and new ones after sign-out", async () => {
    const shared = memoryKeyStore();
    const pageA = createSessionKeyring({ store: shared });
    pageA.signingIn();
    const thumbprintOf = async (ring: ReturnType<typeof createSessionKeyring>, accessToken = token) => {
      const { fetch, sent } = fakeFetch((s) => sealedResponse(s.init.headers, {}));
      await createApiClient({ accessToken: async () => accessToken, keys: ring, fetch, baseUrl })({
        method: "GET",
        path: "/api/records",
      });
      return calculateJwkThumbprint(decodeProtectedHeader(sentHeaders(sent[0]).get("dpop") ?? "").jwk ?? {});
    };
    const first = await thumbprintOf(pageA);
    expect(await thumbprintOf(createSessionKeyring({ store: shared }))).toBe(first); // after a reload
    await pageA.forget();
    expect(shared.entries.size).toBe(0);
    pageA.signingIn();
    expect(await thumbprintOf(pageA, accessTokenFor("ada", "next-sign-in"))).not.toBe(first);
  });
});

describe("sealed answers", { timeout: 30_000 }, () => {
  const get = (respond: Respond) => client(respond).call({ method: "GET", path: "/api/records/r1" });

  it("open to the JSON the function sealed, for this request only", async () => {
    const record = { id: "r1", fullName: "Ada Lovelace", diagnosis: "canary-diagnosis" };
    await expect(get((s) => sealedResponse(s.init.headers, record))).resolves.toMatchObject({ body: record });
    // Framed messages (as streamed answers are) open as well.
    await expect(
      get((s) => sealedResponse(s.init.headers, record, { frameLength: 16 })),
    ).resolves.toMatchObject({ body: record });
  });

  it("refuse an answer sealed for another request's proof", async () => {
    await expect(
      get((s) => sealedResponse(s.init.headers, {}, { jti: "another-proof-jti-00000" })),
    ).rejects.toBeInstanceOf(SealedAnswerError);
  });

  it("refuse an answer sealed to another key", async () => {
    const other = await createSessionKeyring({ store: memoryKeyStore() }).forToken(accessTokenFor("eve"));
    await expect(
      get((s) => sealedResponse(s.init.headers, {}, { sek: other.sealJwk })),
    ).rejects.toBeInstanceOf(SealedAnswerError);
  });

  it("refuse a successful answer that is not sealed (fail closed)", async () => {
    const err = await get(() =>
      json(200, { id: "r1", fullName: "Ada" }, { [headerNames.requestId]: "req-7" }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SealedAnswerError);
    expect(err).toMatchObject({ status: 502, requestId: "req-7" });
    expect((err as Error).message).not.toContain("Ada");
  });

  const refused: [string, Respond][] = [
    [
      "without the answer context",
      (s) =>
        sealedResponse(
          s.init.headers,
          {},
          { context: { [sealedAnswer.contextProofKey]: proofOf(s.init.headers).jti } },
        ),
    ],
    [
      "with another algorithm suite",
      (s) =>
        sealedResponse(
          s.init.headers,
          {},
          { suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 },
        ),
    ],
    ["whose plaintext is not JSON", (s) => sealedResponse(s.init.headers, {}, { type: "text/html" })],
    [
      "altered on the way",
      async (s) => {
        const { jti, sek } = proofOf(s.init.headers);
        const message = await seal(JSON.stringify({ a: 1 }), sek, jti);
        message[message.length - 40] = (message[message.length - 40] ?? 0) ^ 1;
        return new Response(Buffer.from(message).toString("base64"), {
          headers: {
            "content-type": sealedAnswer.contentType,
            [sealedAnswer.plaintextTypeHeader]: "application/json",
          },
        });
      },
    ],
  ];
  it.each(refused)("refuse a message %s", async (_, respond) => {
    await expect(get(respond)).rejects.toBeInstanceOf(SealedAnswerError);
  });

  it("open a streamed file into a Blob of its type, and refuse a type not asked for", async () => {
    const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
    const file = (type: string) =>
      client((s) =>
        sealedResponse(s.init.headers, bytes, { streamed: true, type, frameLength: 65_536 }),
      ).call<Blob>({
        method: "GET",
        path: "/api/records/r1/images/i1",
        fileTypes: ["image/png"],
      });
    const { body } = await file("image/png");
    expect(body.type).toBe("image/png");
    expect(new Uint8Array(await body.arrayBuffer())).toEqual(bytes);
    await expect(file("text/html")).rejects.toBeInstanceOf(SealedAnswerError);
  });

  it("report an answer cut short", async () => {
    const cut = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2, 3]));
        c.error(new Error("connection reset"));
      },
    });
    await expect(
      get(() => new Response(cut, { headers: { "content-type": sealedAnswer.streamContentType } })),
    ).rejects.toMatchObject({ status: 502, code: "IncompleteAnswer" });
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
