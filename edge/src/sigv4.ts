/**
 * A small AWS Signature Version 4 signer on node:crypto, enough for one request to API Gateway. The AWS
 * SDK signer would triple the bundle and, like most public edge signers, needs care to hash the real body.
 */
import { createHash, createHmac } from "node:crypto";

/** Lower-case hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** SigV4 percent-encoding: everything but `A-Z a-z 0-9 - . _ ~`, upper-case hex. Throws on lone surrogates. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Canonical URI for non-S3 services: dot and empty segments removed (a trailing slash kept), then each
 * segment of the path *as sent* (already percent-encoded) encoded once more — `%20` becomes `%2520` —
 * because that is what API Gateway computes from the path it receives.
 */
export function canonicalUri(rawPath: string): string {
  const kept: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") kept.pop();
    else kept.push(uriEncode(segment));
  }
  return `/${kept.join("/")}${kept.length > 0 && rawPath.endsWith("/") ? "/" : ""}`;
}

/**
 * Canonical query string from a raw query (no `?`). Names and values are decoded — `+` as a space, as
 * API Gateway reads it — then SigV4-encoded and sorted. Throws on a malformed escape.
 */
export function canonicalQueryString(rawQuery: string): string {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const decode = (s: string) => uriEncode(decodeURIComponent(s.replace(/\+/g, " ")));
    pairs.push([decode(eq < 0 ? part : part.slice(0, eq)), decode(eq < 0 ? "" : part.slice(eq + 1))]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}

/** Everything one signature covers. Header names lower case; values as they will be sent. */
export interface SigningInput {
  readonly method: string;
  readonly canonicalUri: string;
  readonly canonicalQuery: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly payloadHash: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  readonly region: string;
  readonly service: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

// The derived key depends only on secret, day, region and service: one instance signs with the same
// ones all day, so the four HMACs of the derivation run once a day instead of once per request.
let lastKey: { secret: string; date: string; region: string; service: string; key: Buffer } | undefined;

/** The SigV4 signing key for one day, region and service (the last one is remembered). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const k = lastKey;
  if (k && k.secret === secret && k.date === date && k.region === region && k.service === service) {
    return k.key;
  }
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  lastKey = { secret, date, region, service, key };
  return key;
}

/** Returns the `Authorization` header value for `input`; every header in `input.headers` is signed. */
export function authorizationHeader(input: SigningInput): string {
  const names = [...input.headers.keys()].sort();
  const canonicalHeaders = names
    .map((n) => `${n}:${(input.headers.get(n) ?? "").trim().replace(/[ \t]+/g, " ")}\n`)
    .join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    input.method,
    input.canonicalUri,
    input.canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const date = input.amzDate.slice(0, 8);
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${input.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(input.secretAccessKey, date, input.region, input.service);
  const signature = hmac(key, stringToSign).toString("hex");
  return `AWS4-HMAC-SHA256 Credential=${input.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

/** `2026-01-02T03:04:05.678Z` → `20260102T030405Z`. */
export function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}
