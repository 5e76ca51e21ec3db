// Over 300 lines: one independent signer setup shared by every check.
/**
 * Behaviour of verifySigV4 beyond the official vectors: requests signed by an independent signer
 * (@smithy/signature-v4, what the AWS SDK uses), each security check on its own, and presigned URLs.
 */
import { createHash } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NodeSha256 } from "./node-sha256.ts";
import { type SigV4Request, type VerifySigV4Options, verifySigV4 } from "./verify.ts";

const credentials = { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret", sessionToken: "tok/en+=" };
const now = new Date("2026-01-02T03:04:05Z");
const host = "abc123.execute-api.eu-west-1.amazonaws.com";

const signer = (service = "execute-api", region = "eu-west-1", uriEscapePath = true, applyChecksum = true) =>
  new SignatureV4({ service, region, credentials, sha256: NodeSha256, uriEscapePath, applyChecksum });

interface Plain {
  method: string;
  path: string; // still encoded, as on the wire
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

/** Signs with smithy and returns the request as a server would receive it. */
async function signed(req: Plain, sign = signer(), at = now): Promise<SigV4Request> {
  const out = await sign.sign(
    {
      method: req.method,
      protocol: "https:",
      hostname: host,
      path: req.path,
      query: req.query ?? {},
      headers: { host, ...req.headers },
      body: req.body,
    },
    { signingDate: at },
  );
  return { method: req.method, url: req.path + wireQuery(req.query), headers: out.headers, body: req.body };
}

function wireQuery(query: Record<string, string | string[]> | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {})) {
    for (const value of Array.isArray(v) ? v : [v])
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

const options = (over: Partial<VerifySigV4Options> = {}): VerifySigV4Options => ({
  service: "execute-api",
  region: "eu-west-1",
  secretFor: (id) => (id === credentials.accessKeyId ? credentials.secretAccessKey : undefined),
  now,
  ...over,
});

const reason = async (req: SigV4Request, opts = options()) => {
  const r = await verifySigV4(req, opts);
  return r.ok ? "ok" : r.reason;
};

describe("verifySigV4 with requests signed by @smithy/signature-v4", () => {
  it("accepts a POST with a body and reports who signed", async () => {
    const req = await signed({
      method: "POST",
      path: "/prod/api/records",
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await verifySigV4(req, options())).toEqual({
      ok: true,
      accessKeyId: credentials.accessKeyId,
      sessionToken: credentials.sessionToken,
      signedHeaders: expect.arrayContaining(["host", "x-amz-date", "x-amz-security-token", "content-type"]),
      presigned: false,
      requestTime: now,
    });
  });

  it("accepts async secret lookups", async () => {
    const req = await signed({ method: "GET", path: "/prod/x" });
    expect(await reason(req, options({ secretFor: async () => credentials.secretAccessKey }))).toBe("ok");
  });

  it("accepts any path, query and body (property)", async () => {
    const segment = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 8 })
      .filter((s) => s !== "." && s !== "..");
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
        fc.string({ unit: "grapheme", maxLength: 40 }),
        async (segments, query, body) => {
          const path = `/${segments.map(encodeURIComponent).join("/")}`;
          const req = await signed({ method: "PUT", path, query, body });
          expect(await reason(req)).toBe("ok");
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads '+' in a query string as a space, like API Gateway", async () => {
    const req = await signed({ method: "GET", path: "/p", query: { q: "john smith" } });
    expect(req.url).toBe("/p?q=john%20smith");
    expect(await reason({ ...req, url: "/p?q=john+smith" })).toBe("ok");
    expect(await reason({ ...req, url: "/p?q=john%2Bsmith" })).toBe("bad-signature");
  });

  it("escapes the received path once more for non-S3 services, exactly once for S3", async () => {
    const path = "/prod/records/a%20b";
    expect(await reason(await signed({ method: "GET", path }))).toBe("ok");
    const s3 = await signed({ method: "GET", path }, signer("s3", "eu-west-1", false));
    expect(await reason(s3, options({ service: "s3" }))).toBe("ok");
    expect(await reason(s3, options({ service: "s3", doubleEncodePath: true }))).toBe("bad-signature");
  });
});

describe("verifySigV4 security checks", () => {
  it("rejects a request without any signature", async () => {
    expect(await reason({ method: "GET", url: "/", headers: { host } })).toBe("missing-authorization");
  });

  it("hashes the body itself: a changed body fails even with the signed x-amz-content-sha256 kept", async () => {
    const req = await signed({
      method: "POST",
      path: "/p",
      body: "amount=10",
      headers: { "x-amz-content-sha256": sha("amount=10") },
    });
    expect(await reason(req)).toBe("ok");
    expect(await reason({ ...req, body: "amount=99" })).toBe("payload-hash-mismatch");
    const { "x-amz-content-sha256": _, ...withoutClaim } = req.headers as Record<string, string>;
    expect(await reason({ ...req, headers: withoutClaim, body: "amount=99" })).toBe("signed-header-missing");
  });

  it("hashes the body itself: without x-amz-content-sha256 a changed body is a bad signature", async () => {
    const req = await signed(
      { method: "POST", path: "/p", body: "amount=10" },
      signer("execute-api", "eu-west-1", true, false),
    );
    expect(req.headers["x-amz-content-sha256"]).toBeUndefined();
    expect(await reason(req)).toBe("ok");
    expect(await reason({ ...req, body: "amount=99" })).toBe("bad-signature");
  });

  it("never trusts a forged x-amz-content-sha256 matching a changed body", async () => {
    const req = await signed({
      method: "POST",
      path: "/p",
      body: "amount=10",
      headers: { "x-amz-content-sha256": sha("amount=10") },
    });
    const forged = {
      ...req,
      body: "amount=99",
      headers: { ...req.headers, "x-amz-content-sha256": sha("amount=99") },
    };
    expect(await reason(forged)).toBe("bad-signature");
  });

  it("accepts UNSIGNED-PAYLOAD only when allowed", async () => {
    const req = await signed(
      { method: "PUT", path: "/b/k", body: "x", headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" } },
      signer("s3", "eu-west-1", false),
    );
    expect(await reason(req, options({ service: "s3" }))).toBe("unsupported-payload");
    expect(await reason(req, options({ service: "s3", allowUnsignedPayload: true }))).toBe("ok");
  });

  it("rejects a clock skew beyond 5 minutes either way, and honours maxSkewSeconds", async () => {
    const req = await signed({ method: "GET", path: "/p" });
    const at = (s: number) => new Date(now.getTime() + s * 1000);
    expect(await reason(req, options({ now: at(300) }))).toBe("ok");
    expect(await reason(req, options({ now: at(301) }))).toBe("skew");
    expect(await reason(req, options({ now: at(-301) }))).toBe("skew");
    expect(await reason(req, options({ now: at(61), maxSkewSeconds: 60 }))).toBe("skew");
  });

  it("rejects a scope for another service, region or date", async () => {
    expect(await reason(await signed({ method: "GET", path: "/p" }, signer("kms")))).toBe("scope-mismatch");
    expect(
      await reason(await signed({ method: "GET", path: "/p" }, signer("execute-api", "us-east-1"))),
    ).toBe("scope-mismatch");
    const req = await signed({ method: "GET", path: "/p" });
    const auth = String(req.headers.authorization).replace(/\/20260102\//, "/20260101/");
    expect(await reason({ ...req, headers: { ...req.headers, authorization: auth } })).toBe("scope-mismatch");
  });

  it("requires host and the date header to be signed, and the requireSigned headers when present", async () => {
    const req = await signed({ method: "GET", path: "/p", headers: { "x-veil-identity": "Bearer t" } });
    const auth = String(req.headers.authorization);
    const drop = (name: string) => ({
      ...req,
      headers: {
        ...req.headers,
        authorization: auth
          .replace(new RegExp(`(SignedHeaders=(?:[^,]*;)?)${name};?`), "$1")
          .replace(/;,/, ","),
      },
    });
    expect(await reason(drop("host"))).toBe("unsigned-header-required");
    expect(await reason(drop("x-amz-date"))).toBe("unsigned-header-required");
    expect(await reason(drop("x-veil-identity"), options({ requireSigned: ["x-veil-identity"] }))).toBe(
      "unsigned-header-required",
    );
    expect(await reason(drop("x-veil-identity"))).toBe("bad-signature");
  });

  it("ignores unsigned headers added in transit (via, x-forwarded-for)", async () => {
    const req = await signed({ method: "GET", path: "/p" });
    const relayed = {
      ...req,
      headers: { ...req.headers, via: "1.1 cloudfront", "x-forwarded-for": "1.2.3.4" },
    };
    expect(await reason(relayed)).toBe("ok");
  });

  it("rejects a changed signed header value, method or query", async () => {
    const req = await signed({
      method: "GET",
      path: "/p",
      query: { a: "1" },
      headers: { "x-veil-identity": "Bearer a" },
    });
    expect(await reason({ ...req, headers: { ...req.headers, "x-veil-identity": "Bearer b" } })).toBe(
      "bad-signature",
    );
    expect(await reason({ ...req, method: "DELETE" })).toBe("bad-signature");
    expect(await reason({ ...req, url: "/p?a=2" })).toBe("bad-signature");
    expect(await reason({ ...req, url: "/p?a=1&b=2" })).toBe("bad-signature");
  });

  it("rejects unknown access keys and malformed headers without throwing", async () => {
    const req = await signed({ method: "GET", path: "/p" });
    expect(await reason(req, options({ secretFor: () => undefined }))).toBe("unknown-access-key");
    const bad = (authorization: string) => reason({ ...req, headers: { ...req.headers, authorization } });
    expect(await bad("Bearer abc")).toBe("unsupported-algorithm");
    expect(await bad("AWS4-HMAC-SHA256 Credential=a/b")).toBe("malformed-authorization");
    expect(await bad(String(req.headers.authorization).replace(/Signature=\w+/, "Signature=ABC"))).toBe(
      "malformed-signature",
    );
    expect(await reason({ ...req, url: "/p%ZZ" })).toBe("bad-signature");
    expect(await reason({ ...req, url: "/p?a=%ZZ" })).toBe("malformed-url");
    expect(await reason({ ...req, url: "http://evil/p" })).toBe("malformed-url");
    expect(
      await reason({
        ...req,
        headers: { ...req.headers, authorization: [String(req.headers.authorization), "x"] },
      }),
    ).toBe("malformed-authorization");
  });
});

describe("verifySigV4 presigned URLs", () => {
  async function presigned(expiresIn = 900): Promise<SigV4Request> {
    const out = await signer().presign(
      {
        method: "GET",
        protocol: "https:",
        hostname: host,
        path: "/prod/p",
        query: { a: "b c" },
        headers: { host },
      },
      { signingDate: now, expiresIn },
    );
    const q = Object.entries(out.query ?? {}).map(
      ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`,
    );
    return { method: "GET", url: `/prod/p?${q.join("&")}`, headers: { host } };
  }
  const at = (s: number) => new Date(now.getTime() + s * 1000);

  it("verifies within the expiry and rejects after it", async () => {
    const req = await presigned(900);
    expect(await verifySigV4(req, options({ now: at(899) }))).toMatchObject({
      ok: true,
      presigned: true,
      sessionToken: credentials.sessionToken,
    });
    expect(await reason(req, options({ now: at(901) }))).toBe("expired");
    expect(await reason(req, options({ now: at(-301) }))).toBe("skew");
  });

  it("rejects both header and query signatures at once, and absurd expiries", async () => {
    const req = await presigned();
    expect(await reason({ ...req, headers: { ...req.headers, authorization: "AWS4-HMAC-SHA256 x" } })).toBe(
      "ambiguous-authorization",
    );
    expect(await reason({ ...req, url: req.url.replace("X-Amz-Expires=900", "X-Amz-Expires=604801") })).toBe(
      "malformed-presign",
    );
    expect(await reason({ ...req, url: req.url.replace("X-Amz-Expires=900", "X-Amz-Expires=901") })).toBe(
      "bad-signature",
    );
    expect(await reason({ ...req, url: `${req.url}&X-Amz-Date=20260102T030405Z` })).toBe("malformed-presign");
  });
});

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
