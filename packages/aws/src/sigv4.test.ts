/**
 * The signer against the AWS SDK's own (`@smithy/signature-v4`) over random requests, and against the
 * botocore aws4_testsuite vectors vendored in packages/local.
 */
import { join } from "node:path";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRawRequest, readFixture, vectorFolders } from "../../local/src/sigv4/fixtures.ts";
import { NodeSha256 } from "../../local/src/sigv4/node-sha256.ts";
import {
  canonicalHeaderValue,
  canonicalPath,
  canonicalQuery,
  presignRequest,
  type SignableRequest,
  signingKey,
  signRequest,
  toAmzDate,
  uriEncode,
} from "./sigv4.ts";

type Query = Record<string, string | string[]>;

const text = fc.string({ unit: "grapheme", maxLength: 12 });
const ascii = fc.string({ unit: "grapheme-ascii", maxLength: 12 });
/** A path segment as sent: raw safe characters, or any text percent-encoded, or a dot segment. */
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,8}$/),
  text.map((s) => encodeURIComponent(s)),
  fc.constantFrom(".", "..", "", "%2F", "a b", "x+y"),
);
const path = fc
  .tuple(fc.array(segment, { maxLength: 5 }), fc.boolean())
  .map(([segments, trailing]) => `/${segments.join("/")}${trailing && segments.length > 0 ? "/" : ""}`);
const queryName = fc.oneof(ascii, text, fc.constantFrom("X-Amz-Date", "x-amz-signature", "Action", "a b"));
const query = fc
  .dictionary(queryName, fc.oneof(text, fc.array(text, { maxLength: 3 })), { maxKeys: 5 })
  .map((q) => Object.fromEntries(Object.entries(q).filter(([k]) => k !== "__proto__")) as Query);
const headerName = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/),
  fc.constantFrom(
    "Content-Type",
    "X-Amz-Target",
    "x-amz-meta-Name",
    "X-Amz-Security-Token",
    "user-agent",
    "Connection",
    "proxy-authorization",
    "sec-fetch-mode",
    "Authorization",
    "X-Amz-Date",
    "Date",
    "content-length",
  ),
);
const headerValue = fc.oneof(
  fc.stringMatching(/^[ \t]{0,2}[!-~]{1,10}([ \t]{1,3}[!-~]{1,10}){0,2}[ \t]{0,2}$/),
  fc.constantFrom("", "  ", "a\nb", "a\r\n b"),
);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 6 });
const body = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }));
const credentials = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{4,20}$/),
    secretAccessKey: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
    sessionToken: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
  },
  { requiredKeys: ["accessKeyId", "secretAccessKey"] },
);
const region = fc.constantFrom("eu-central-2", "us-east-1", "cn-north-1");
const service = fc.constantFrom("kms", "secretsmanager", "rds-db", "execute-api", "service");
const date = fc.date({ min: new Date("2001-01-01"), max: new Date("2099-12-31"), noInvalidDate: true });
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH");

const request = fc.record({
  method,
  path,
  query,
  headers: fc
    .tuple(headers, fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{2,5})?$/), fc.boolean(), fc.boolean())
    .map(([h, host, withHash, unsigned]) => ({
      ...h,
      host,
      ...(withHash ? { "X-Amz-Content-Sha256": unsigned ? "UNSIGNED-PAYLOAD" : "abc" } : {}),
    })),
  body,
});

function smithy(
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  r: string,
  s: string,
) {
  return new SignatureV4({ credentials: creds, region: r, service: s, sha256: NodeSha256 });
}

const asSmithyRequest = (req: SignableRequest) => ({
  method: req.method,
  protocol: "https:",
  hostname: "example.amazonaws.com",
  path: req.path,
  query: structuredClone(req.query ?? {}) as Query,
  headers: { ...req.headers },
  body: req.body,
});

describe("signRequest", () => {
  it("computes the headers the AWS SDK signer computes, for any request", async () => {
    await fc.assert(
      fc.asyncProperty(request, credentials, region, service, date, async (req, creds, r, s, d) => {
        const ours = signRequest(req, { credentials: creds, region: r, service: s, date: d });
        const theirs = await smithy(creds, r, s).sign(asSmithyRequest(req), { signingDate: d });
        const lower = (h: Record<string, unknown>) =>
          Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
        expect(lower(ours.headers)).toEqual(lower(theirs.headers as Record<string, unknown>));
      }),
      { numRuns: 400 },
    );
  });

  it("leaves x-amz-content-sha256 out when asked, still signing the payload hash", async () => {
    const creds = { accessKeyId: "AKID", secretAccessKey: "secret" };
    const req = {
      method: "POST",
      path: "/",
      headers: { host: "kms.eu-central-2.amazonaws.com" },
      body: "{}",
    };
    const d = new Date("2026-03-04T05:06:07Z");
    const ours = signRequest(req, {
      credentials: creds,
      region: "eu-central-2",
      service: "kms",
      date: d,
      contentSha256Header: false,
    });
    const theirs = await new SignatureV4({
      credentials: creds,
      region: "eu-central-2",
      service: "kms",
      sha256: NodeSha256,
      applyChecksum: false,
    }).sign(asSmithyRequest(req), { signingDate: d });
    expect(ours.headers["x-amz-content-sha256"]).toBeUndefined();
    expect(ours.headers.authorization).toBe(theirs.headers.authorization);
  });

  it("refuses to sign without a secret", () => {
    const req = { method: "GET", path: "/", headers: { host: "h" } };
    for (const creds of [
      { accessKeyId: "AKID", secretAccessKey: "" },
      { accessKeyId: "", secretAccessKey: "s" },
      undefined as never,
    ]) {
      expect(() => signRequest(req, { credentials: creds, region: "r", service: "s" })).toThrow(TypeError);
    }
  });
});

describe("presignRequest", () => {
  it("computes the query the AWS SDK signer computes, for any request", async () => {
    await fc.assert(
      fc.asyncProperty(
        request,
        credentials,
        region,
        service,
        date,
        fc.integer({ min: 1, max: 604800 }),
        async (req, creds, r, s, d, expiresIn) => {
          const ours = presignRequest(req, { credentials: creds, region: r, service: s, date: d, expiresIn });
          const theirs = await smithy(creds, r, s).presign(asSmithyRequest(req), {
            signingDate: d,
            expiresIn,
          });
          expect(ours.query).toEqual(theirs.query);
          expect(ours.headers).toEqual(theirs.headers);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("refuses expiries outside 1 s … 7 days", () => {
    const req = { method: "GET", path: "/", headers: { host: "h" } };
    const creds = { accessKeyId: "AKID", secretAccessKey: "s" };
    for (const expiresIn of [0, 604801, 1.5]) {
      expect(() => presignRequest(req, { credentials: creds, region: "r", service: "s", expiresIn })).toThrow(
        RangeError,
      );
    }
  });
});

describe("canonical parts", () => {
  it("encode as SigV4 wants", () => {
    expect(uriEncode("a b+c*~")).toBe("a%20b%2Bc%2A~");
    expect(canonicalPath("/a/./b/../c%20d//e/")).toBe("/a/c%2520d/e/");
    expect(canonicalQuery({ b: ["2", "1"], a: "", "X-Amz-Signature": "x" })).toBe("a=&b=1&b=2");
  });

  it("derive the signing key afresh whenever any input changes, and again when it changes back", async () => {
    const { createHmac } = await import("node:crypto");
    const h = (k: Buffer | string, m: string) => createHmac("sha256", k).update(m).digest();
    const derive = (secret: string, d: string, r: string, s: string) =>
      h(h(h(h(`AWS4${secret}`, d), r), s), "aws4_request");
    const cases: Array<[string, string, string, string]> = [
      ["a", "20260304", "eu-west-1", "kms"],
      ["b", "20260304", "eu-west-1", "kms"],
      ["b", "20260305", "eu-west-1", "kms"],
      ["b", "20260305", "us-east-1", "kms"],
      ["b", "20260305", "us-east-1", "rds-db"],
      ["a", "20260304", "eu-west-1", "kms"],
    ];
    for (const c of cases) expect(signingKey(...c).equals(derive(...c)), c.join(" ")).toBe(true);
  });
});

describe("botocore aws4_testsuite", () => {
  // The vectors vendored for the local SigV4 verifier (see packages/local/src/sigv4/fixtures).
  const root = join(import.meta.dirname, "..", "..", "local", "src", "sigv4", "fixtures", "botocore");
  const folders = vectorFolders(root, (name) => `${name}.req`);
  const suite = {
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    region: "us-east-1",
    service: "service",
    date: new Date("2015-08-30T12:36:00Z"),
  };

  it("has the vectors", () => {
    expect(folders.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of folders) {
    // The suite writes paths unencoded (`/example space/`, `/ሴ`) and signs them encoded once, which is
    // what canonicalPath does with a path given as is.
    it(`${name}: the same Authorization header`, () => {
      const base = name.split("/").at(-1)!;
      const file = (ext: string) => readFixture(root, name, `${base}.${ext}`);
      const raw = parseRawRequest(file("req"));
      const q = raw.url.indexOf("?");
      const rawPath = q < 0 ? raw.url : raw.url.slice(0, q);
      const parsedQuery: Query = {};
      for (const part of (q < 0 ? "" : raw.url.slice(q + 1)).split("&")) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
        const v = decodeURIComponent(eq < 0 ? "" : part.slice(eq + 1));
        const prev = parsedQuery[k];
        parsedQuery[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
      }
      const hdrs: Record<string, string> = {};
      for (const [k, values] of Object.entries(raw.headers)) hdrs[k] = values.join(",");
      delete hdrs["X-Amz-Date"];
      const token = /^x-amz-security-token:(.*)$/m.exec(file("creq"))?.[1];
      const signed = signRequest(
        {
          method: raw.method,
          path: rawPath,
          query: parsedQuery,
          headers: hdrs,
          body: raw.body,
        },
        {
          ...suite,
          credentials: token ? { ...suite.credentials, sessionToken: token } : suite.credentials,
          contentSha256Header: false,
        },
      );
      expect(signed.headers.authorization).toBe(file("authz").trim());
    });
  }
});

describe("header values and dates as signed", () => {
  const reference = (value: string) =>
    value
      .replace(/[\r\n]/g, " ")
      .replace(/[ \t]+/g, " ")
      .replace(/^ | $/g, "");

  it("folds any header value as line breaks to spaces, runs of blanks to one, ends trimmed", () => {
    const blanky = fc.string({ unit: fc.constantFrom("a", "b", " ", "\t", "\r", "\n", "é") });
    fc.assert(
      fc.property(fc.oneof(blanky, fc.string()), (value) => {
        expect(canonicalHeaderValue(value)).toBe(reference(value));
      }),
    );
  });

  it("writes the date of any instant, also for several requests within one second", () => {
    const instants = fc.integer({ min: 0, max: 4102444800000 });
    fc.assert(
      fc.property(fc.array(instants, { minLength: 1, maxLength: 4 }), (times) => {
        for (const t of [...times, ...times.map((x) => x + 1), ...times]) {
          const date = new Date(t);
          expect(toAmzDate(date)).toBe(date.toISOString().replace(/[-:]|\.\d{3}/g, ""));
        }
      }),
    );
    expect(() => toAmzDate(new Date(Number.NaN))).toThrow(RangeError);
  });
});
