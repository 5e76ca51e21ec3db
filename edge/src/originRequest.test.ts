/**
 * The edge signer against an independent oracle: every request it forwards must carry exactly the
 * Authorization that @smithy/signature-v4 (the AWS SDK's signer) computes for the request API Gateway
 * will receive (origin host, stage-prefixed path, forwarded query, real body).
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import type {
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontResultResponse,
} from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { createOriginRequestHandler, type EdgeCredentials, handler } from "./index.ts";

const creds: EdgeCredentials = {
  accessKeyId: "ASIAEDGE",
  secretAccessKey: "edge-secret",
  sessionToken: "edge/token+=",
};
const now = new Date("2026-03-04T05:06:07Z");
const apiDomain = "abc123.execute-api.eu-west-1.amazonaws.com";
const sign = createOriginRequestHandler({ region: "eu-west-1", credentials: () => creds, now: () => now });

interface EventInput {
  method?: string;
  uri?: string;
  querystring?: string;
  headers?: Record<string, string>;
  body?: { data: string; encoding?: "base64" | "text"; inputTruncated?: boolean } | null;
  originPath?: string;
}

function cfHeaders(headers: Record<string, string>): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  for (const [k, v] of Object.entries(headers))
    out[k.toLowerCase()] = [...(out[k.toLowerCase()] ?? []), { key: k, value: v }];
  return out;
}

function event(input: EventInput = {}): CloudFrontRequestEvent {
  const body =
    input.body === null
      ? undefined
      : {
          action: "read-only" as const,
          data: input.body?.data ?? "",
          encoding: input.body?.encoding ?? ("base64" as const),
          inputTruncated: input.body?.inputTruncated ?? false,
        };
  const request: CloudFrontRequest = {
    clientIp: "203.0.113.9",
    method: input.method ?? "GET",
    uri: input.uri ?? "/api/records",
    querystring: input.querystring ?? "",
    headers: cfHeaders({ Host: apiDomain, "User-Agent": "test", ...input.headers }),
    ...(body === undefined ? {} : { body }),
    origin: {
      custom: {
        customHeaders: cfHeaders({ "x-api-key": "secret-api-key" }),
        domainName: apiDomain,
        keepaliveTimeout: 5,
        path: input.originPath ?? "/prod",
        port: 443,
        protocol: "https",
        readTimeout: 30,
        sslProtocols: ["TLSv1.2"],
      },
    },
  };
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d.cloudfront.net",
            distributionId: "E1",
            eventType: "origin-request",
            requestId: "r",
          },
          request,
        },
      },
    ],
  };
}

const b64 = (s: string) => Buffer.from(s).toString("base64");
const header = (r: CloudFrontRequest, name: string) => r.headers[name]?.map((h) => h.value);

function isRequest(r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontRequest {
  return "uri" in r;
}
async function signed(input: EventInput): Promise<CloudFrontRequest> {
  const out = await sign(event(input));
  if (!isRequest(out)) throw new Error(`expected a request, got status ${out.status}`);
  return out;
}
async function refused(input: EventInput, s = sign): Promise<CloudFrontResultResponse> {
  const out = await s(event(input));
  if (isRequest(out)) throw new Error("expected a generated response");
  return out;
}

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source) =>
  typeof d === "string"
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: Source) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
  update(d: Source) {
    this.hash.update(bytes(d));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
  reset() {
    this.hash = this.fresh();
  }
}

/**
 * What the AWS SDK signer produces for the request as API Gateway receives it: only the headers our
 * signer claims to sign (minus the ones smithy adds itself), the wire path with the stage, the query
 * decoded like API Gateway does, and the body bytes (smithy hashes them itself).
 */
async function oracleAuthorization(
  out: CloudFrontRequest,
  originPath: string,
  body: Buffer,
): Promise<string> {
  const auth = header(out, "authorization")![0]!;
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)![1]!.split(";");
  const headers: Record<string, string> = {};
  for (const name of signedNames) {
    if (["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"].includes(name)) continue;
    headers[name] = header(out, name)!.join(",");
  }
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(out.querystring)) {
    const prev = Object.hasOwn(query, k) ? query[k] : undefined;
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const smithy = new SignatureV4({
    service: "execute-api",
    region: "eu-west-1",
    credentials: creds,
    sha256: NodeSha256,
    // API Gateway needs no x-amz-content-sha256 header; the edge does not send one.
    applyChecksum: false,
  });
  const result = await smithy.sign(
    {
      method: out.method,
      protocol: "https:",
      hostname: apiDomain,
      path: originPath + out.uri,
      query,
      headers,
      body,
    },
    { signingDate: now },
  );
  return String(result.headers.authorization);
}

describe("edge origin-request signer", () => {
  it("signs a POST with its body, content type and moved bearer token", async () => {
    const json = '{"fullName":"A+B 100%"}';
    const out = await signed({
      method: "POST",
      body: { data: b64(json) },
      headers: { "Content-Type": "application/json", Authorization: "Bearer aaa.bbb.ccc" },
    });
    const auth = header(out, "authorization")![0]!;
    expect(auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEDGE\/20260304\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-veil-identity, Signature=[0-9a-f]{64}$/,
    );
    expect(header(out, "x-veil-identity")).toEqual(["Bearer aaa.bbb.ccc"]);
    expect(header(out, "x-amz-date")).toEqual(["20260304T050607Z"]);
    expect(header(out, "x-amz-security-token")).toEqual([creds.sessionToken]);
    expect(auth).toBe(await oracleAuthorization(out, "/prod", Buffer.from(json)));
  });

  it("signs the viewer host header and forwards the DPoP proof unchanged", async () => {
    const out = await signed({
      method: "GET",
      headers: {
        Authorization: "Bearer aaa.bbb.ccc",
        DPoP: "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln",
        "x-veil-viewer-host": "app.veil.example",
      },
    });
    const auth = header(out, "authorization")![0]!;
    expect(auth).toContain(
      "SignedHeaders=host;x-amz-date;x-amz-security-token;x-veil-identity;x-veil-viewer-host,",
    );
    expect(header(out, "x-veil-viewer-host")).toEqual(["app.veil.example"]);
    expect(header(out, "dpop")).toEqual(["eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln"]);
    expect(auth).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
    const twice = event({ method: "GET" });
    twice.Records[0]!.cf.request.headers["x-veil-viewer-host"] = [
      { key: "x-veil-viewer-host", value: "a.example" },
      { key: "x-veil-viewer-host", value: "b.example" },
    ];
    expect(await sign(twice)).toMatchObject({ status: "400" });
  });

  it("signs a GET without a body object with the empty-string hash", async () => {
    const out = await signed({ method: "GET", body: null, querystring: "page=2" });
    expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
  });

  it("signs a DELETE the same way with or without an (empty) body object", async () => {
    const withBody = await signed({ method: "DELETE", uri: "/api/records/1", body: { data: "" } });
    const without = await signed({ method: "DELETE", uri: "/api/records/1", body: null });
    expect(header(withBody, "authorization")).toEqual(header(without, "authorization"));
    expect(header(without, "authorization")![0]).toBe(
      await oracleAuthorization(without, "/prod", Buffer.alloc(0)),
    );
  });

  it("refuses a DELETE or GET that carries a body (it would not be signed)", async () => {
    expect((await refused({ method: "DELETE", body: { data: b64("x") } })).status).toBe("400");
    expect((await refused({ method: "GET", body: { data: b64("x") } })).status).toBe("400");
  });

  it("answers 413 instead of signing a truncated body", async () => {
    const out = await refused({ method: "POST", body: { data: b64("part"), inputTruncated: true } });
    expect(out.status).toBe("413");
    expect(out.body).toBe('{"message":"Payload Too Large"}');
  });

  it("answers 502 for a POST whose body the function cannot see (includeBody off)", async () => {
    expect((await refused({ method: "POST", body: null })).status).toBe("502");
  });

  it("never signs via, x-forwarded-for, content-length or the origin's x-api-key", async () => {
    const out = await signed({
      method: "POST",
      body: { data: b64("a=1") },
      headers: { Via: "2.0 abc.cloudfront.net", "X-Forwarded-For": "203.0.113.9", "Content-Length": "3" },
    });
    const names = /SignedHeaders=([^,]+)/.exec(header(out, "authorization")![0]!)![1]!.split(";");
    expect(names).toEqual(["host", "x-amz-date", "x-amz-security-token"]);
    expect(header(out, "via")).toEqual(["2.0 abc.cloudfront.net"]);
  });

  it("signs the origin host and the stage-prefixed, double-encoded path", async () => {
    const out = await signed({
      uri: "/api/records/a%20b/%E2%82%AC",
      originPath: "/prod",
      headers: { Host: "viewer.example.com" },
    });
    expect(header(out, "host")).toEqual([apiDomain]);
    expect(out.uri).toBe("/api/records/a%20b/%E2%82%AC"); // forwarded unchanged; CloudFront prefixes /prod
    expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
    const other = await signed({ uri: "/api/records/a%20b/%E2%82%AC", originPath: "" });
    expect(header(other, "authorization")).not.toEqual(header(out, "authorization"));
  });

  it("signs query strings with special characters as API Gateway reads them", async () => {
    const querystring = "q=john+smith&plus=%2B&pct=100%25&star=*&utf=%E1%88%B4&empty=&bare&b=2&b=1&sl=a%2Fb";
    const out = await signed({ querystring });
    expect(out.querystring).toBe(querystring);
    expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
  });

  it("hashes bodies with '+' and '%' byte for byte, base64 or text", async () => {
    const form = "fullName=A+B&note=100%25+sure&x=%2B";
    const base64 = await signed({
      method: "POST",
      body: { data: b64(form) },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    const text = await signed({
      method: "POST",
      body: { data: form, encoding: "text" },
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(header(text, "authorization")).toEqual(header(base64, "authorization"));
    expect(header(base64, "authorization")![0]).toBe(
      await oracleAuthorization(base64, "/prod", Buffer.from(form)),
    );
  });

  it("hashes each large body on its own, also when requests come at once", async () => {
    const sizes = [100_000, 1_000_000, 70_001];
    const bodies = sizes.map((size) => {
      const body = Buffer.alloc(size, size % 251);
      body.write(`body of ${size} bytes`);
      return body;
    });
    // Large bodies are decoded into one reused buffer: requests signed back to back must not mix.
    const outs = await Promise.all(
      bodies.map((body) =>
        signed({
          method: "PUT",
          body: { data: body.toString("base64") },
          headers: { "Content-Type": "application/octet-stream" },
        }),
      ),
    );
    for (const [i, out] of outs.entries()) {
      expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", bodies[i]!));
    }
  });

  it("refuses (400) what cannot be signed as forwarded: raw specials, escaped dot segments, nameless parameters", async () => {
    for (const uri of ["/api/records/{id}", "/api/a\\b", "/api/%2e%2E/records", "/api/.%2e/x", "/api/a b"]) {
      expect((await refused({ uri })).status, uri).toBe("400");
    }
    for (const querystring of ["a=%ZZ", "=v", "a=1#frag"]) {
      expect((await refused({ querystring })).status, querystring).toBe("400");
    }
    // The signer re-escapes the whole target (path included: `%41` → `A`) when the query carries a
    // character a URL escapes; it loses a parameter named `__proto__`, and reads 1000 parameters at most.
    const many = Array.from({ length: 1001 }, (_, i) => `k${i}=1`).join("&");
    for (const querystring of [
      "f=[x]",
      "f={x}",
      "a=b c",
      "a=\u00e9",
      "__proto__=1",
      "%5F%5Fproto%5F%5F",
      many,
    ]) {
      expect((await refused({ uri: "/api/records/%41", querystring })).status, querystring).toBe("400");
    }
    const fits = Array.from({ length: 1000 }, (_, i) => `k${i}=1`).join("&");
    for (const querystring of [fits, "valueOf=1&constructor=2&proto=3", "next=/a?b=c", "f=%5Bx%5D"]) {
      const ok = await signed({ uri: "/api/records/%41", querystring });
      expect(header(ok, "authorization")![0], querystring.slice(0, 20)).toBe(
        await oracleAuthorization(ok, "/prod", Buffer.alloc(0)),
      );
    }
    // Plain dot segments are removed by signer and API Gateway alike; `%2e` inside a name is no segment.
    const out = await signed({ uri: "/api/./records/../records/a%2eb" });
    expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
  });

  it("strips viewer-supplied signer headers and non-bearer Authorization", async () => {
    const out = await signed({
      headers: {
        "X-Veil-Identity": "Bearer forged",
        "X-Amz-Date": "20000101T000000Z",
        "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD",
        Authorization: "Basic dXNlcjpwdw==",
      },
    });
    expect(header(out, "x-veil-identity")).toBeUndefined();
    expect(header(out, "x-amz-content-sha256")).toBeUndefined();
    expect(header(out, "x-amz-date")).toEqual(["20260304T050607Z"]);
    expect(header(out, "authorization")![0]).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(header(out, "authorization")![0]).toBe(await oracleAuthorization(out, "/prod", Buffer.alloc(0)));
  });

  it("takes the region from its configuration, never AWS_REGION", async () => {
    process.env.AWS_REGION = "ap-southeast-2";
    const out = await signed({});
    expect(header(out, "authorization")![0]).toContain("/20260304/eu-west-1/execute-api/aws4_request");
  });

  it("fails closed with a bare 502: no credentials, wrong origin, S3 origin, throwing source", async () => {
    const noCreds = createOriginRequestHandler({ region: "eu-west-1", credentials: () => undefined });
    expect((await refused({}, noCreds)).status).toBe("502");
    const throwing = createOriginRequestHandler({
      region: "eu-west-1",
      credentials: () => {
        throw new Error("boom");
      },
    });
    const r = await refused({}, throwing);
    expect(r).toMatchObject({ status: "502", body: '{"message":"Bad Gateway"}' });
    const pinned = createOriginRequestHandler({
      region: "eu-west-1",
      apiHost: "other.example.com",
      credentials: () => creds,
    });
    expect((await refused({}, pinned)).status).toBe("502");
    const s3 = event();
    s3.Records[0]!.cf.request.origin = {
      s3: { authMethod: "none", customHeaders: {}, domainName: "b.s3.amazonaws.com", path: "" },
    };
    expect(isRequest(await sign(s3))).toBe(false);
    expect((await refused({ querystring: "a=%ZZ" })).status).toBe("400");
  });

  it("reads credentials from the Lambda runtime variables by default", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "ASIAENV",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_SESSION_TOKEN: "t",
    });
    try {
      const out = await createOriginRequestHandler({ region: "eu-west-1" })(event());
      expect(isRequest(out) && header(out, "authorization")![0]).toContain("Credential=ASIAENV/");
      expect(isRequest(out) && header(out, "x-amz-security-token")).toEqual(["t"]);
    } finally {
      process.env = saved;
    }
  });

  it("the unbundled default handler refuses to sign (no region baked in)", async () => {
    const out = await handler(event());
    expect(isRequest(out)).toBe(false);
  });
});

afterEach(() => {
  delete process.env.AWS_REGION;
});
