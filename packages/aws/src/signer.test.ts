/**
 * How Veil calls aws4's signer, against the AWS SDK's signer (@smithy/signature-v4) as the oracle: the
 * same Authorization for any path, query, headers, body, credentials and clock; exactly the headers
 * given are signed; the time is the caller's.
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { amzDate, type SigningCredentials, type SigningRequest, signRequest } from "./signer.ts";

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

/** The SDK signer's Authorization for the same request, with the headers our signer sent. */
async function oracle(
  request: SigningRequest,
  sent: Record<string, string>,
  credentials: SigningCredentials,
): Promise<string> {
  const [path = "/", rawQuery = ""] = request.path.split(/\?(.*)/s);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    const prev = Object.hasOwn(query, k) ? query[k] : undefined;
    query[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  const headers = Object.fromEntries(
    Object.entries(sent).filter(
      ([name]) => !["authorization", "x-amz-date", "x-amz-security-token"].includes(name),
    ),
  );
  const signed = await new SignatureV4({
    service: request.service,
    region: request.region,
    credentials,
    sha256: NodeSha256,
    applyChecksum: false,
  }).sign(
    {
      method: request.method,
      protocol: "https:",
      hostname: request.host,
      path,
      query,
      headers,
      body: request.body,
    },
    { signingDate: request.date },
  );
  return String(signed.headers.authorization);
}

const pathSegment = fc.oneof(
  fc.webSegment(),
  fc.constantFrom(".", "..", "", "a%20b", "%E2%82%AC", "a+b", "%2Fx"),
);
const queryPart = fc
  .tuple(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }).filter((n) => n !== "__proto__"),
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.boolean(),
  )
  .map(([name, value, plus]) => {
    const enc = (s: string) => (plus ? encodeURIComponent(s).replace(/%20/g, "+") : encodeURIComponent(s));
    return `${enc(name)}=${enc(value)}`;
  });
const credentials = fc.record(
  {
    accessKeyId: fc.stringMatching(/^A[A-Z0-9]{3,19}$/),
    secretAccessKey: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
    sessionToken: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 60 }),
  },
  { requiredKeys: ["accessKeyId", "secretAccessKey"] },
);

describe("signRequest", () => {
  it("formats the signing date as SigV4 wants it", () => {
    expect(amzDate(new Date("2026-01-02T03:04:05.678Z"))).toBe("20260102T030405Z");
  });

  it("signs as the AWS SDK signer does, for any path, query, headers, body, credentials and clock", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "PUT", "DELETE"),
        fc.constantFrom(
          "kms.eu-central-2.amazonaws.com",
          "abc.execute-api.eu-west-1.amazonaws.com",
          "127.0.0.1:4599",
        ),
        fc.array(pathSegment, { maxLength: 5 }),
        fc.array(queryPart, { maxLength: 5 }),
        fc.dictionary(
          fc.constantFrom("content-type", "x-amz-target", "x-veil-identity", "x-custom"),
          fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 30 }).filter((v) => v.trim() !== ""),
        ),
        fc.oneof(
          fc.constant(undefined),
          fc.string({ unit: "grapheme", maxLength: 50 }),
          fc.uint8Array().map(Buffer.from),
        ),
        credentials,
        fc.date({ min: new Date("2001-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        async (method, host, segments, query, headers, body, creds, date) => {
          const request: SigningRequest = {
            method,
            host,
            path: `/${segments.join("/")}${query.length > 0 ? `?${query.join("&")}` : ""}`,
            headers,
            ...(body === undefined ? {} : { body }),
            service: "execute-api",
            region: "eu-west-1",
            date,
          };
          const sent = signRequest(request, creds);
          expect(sent.authorization).toBe(await oracle(request, sent, creds));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("signs exactly the headers given, plus host, date and token, and none of the signer's defaults", () => {
    const sent = signRequest(
      {
        method: "POST",
        host: "kms.eu-central-2.amazonaws.com",
        path: "/",
        headers: { "x-amz-target": "TrentService.Decrypt" },
        body: "{}",
        service: "kms",
        region: "eu-central-2",
        date: new Date("2001-02-03T04:05:06Z"),
      },
      { accessKeyId: "AKID", secretAccessKey: "s", sessionToken: "t" },
    );
    expect(Object.keys(sent).sort()).toEqual([
      "authorization",
      "host",
      "x-amz-date",
      "x-amz-security-token",
      "x-amz-target",
    ]);
    expect(sent.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/20010203\/eu-central-2\/kms\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(sent["x-amz-date"]).toBe("20010203T040506Z");
  });
});
