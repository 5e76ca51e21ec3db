/**
 * AWS Signature Version 4 on node:crypto: header signing (`Authorization`) and query presigning, with
 * the canonicalisation of the AWS SDK's `@smithy/signature-v4` (tested against it, and against the AWS
 * test-suite vectors). Imports nothing but node:crypto, so a tiny bundle (the edge signer) can use it.
 *
 * Requests are described as the SDK's `HttpRequest` describes them: the path as it will be sent
 * (already percent-encoded; non-S3 services encode it once more in the canonical request), the query
 * as decoded names and values, header values as they will be sent.
 */
import { createHash, createHmac } from "node:crypto";

/** The credentials a signature needs. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A request to sign. Header names are matched case-insensitively. */
export interface SignableRequest {
  readonly method: string;
  /** The path as sent, e.g. `/` or `/a%20b/c`. */
  readonly path: string;
  /** Decoded query parameters; a repeated parameter is an array. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as sent; its SHA-256 is signed unless an `x-amz-content-sha256` header says otherwise. */
  readonly body?: string | Uint8Array;
}

/** What a signature is for. */
export interface SigningOptions {
  readonly credentials: SigningCredentials;
  readonly region: string;
  /** The signing name, e.g. `kms`, `secretsmanager`, `rds-db`, `execute-api`. */
  readonly service: string;
  /** Signing time; default now. */
  readonly date?: Date;
}

/** Options of {@link signRequest}. */
export interface HeaderSigningOptions extends SigningOptions {
  /** Send the payload hash as `x-amz-content-sha256` (the SDK's default). Default true. */
  readonly contentSha256Header?: boolean;
}

/** Options of {@link presignRequest}. */
export interface PresignOptions extends SigningOptions {
  /** `X-Amz-Expires` in seconds, 1 … 604800. Default 3600. */
  readonly expiresIn?: number;
}

/** A request with its signature: new `headers` (header signing) or new `query` (presigning). */
export interface SignedRequest extends SignableRequest {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | readonly string[]>>;
}

const algorithm = "AWS4-HMAC-SHA256";
/** SHA-256 of the empty string. */
export const emptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** Headers a signature never covers: proxies and the HTTP stack may change or drop them. */
const unsignable = new Set([
  "authorization",
  "cache-control",
  "connection",
  "expect",
  "from",
  "keep-alive",
  "max-forwards",
  "pragma",
  "referer",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "user-agent",
  "x-amzn-trace-id",
]);
/** Headers the signer writes itself; stale copies on the input are dropped. */
const generated = new Set(["authorization", "x-amz-date", "date"]);

/** Lower-case hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
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

// Every request of the same second carries the same date: the last one is kept (a regular expression
// over an ISO string per request was a twentieth of signing a small request).
let lastSecond = Number.NaN;
let lastAmzDate = "";

/** `2026-01-02T03:04:05.678Z` → `20260102T030405Z`. */
export function toAmzDate(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastAmzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, "");
    lastSecond = second;
  }
  return lastAmzDate;
}

/**
 * Canonical URI of a non-S3 service: empty and `.` segments removed, `..` applied (a trailing slash
 * kept), then the path as sent encoded once more (`%20` → `%2520`), slashes kept.
 */
export function canonicalPath(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") kept.pop();
    else kept.push(uriEncode(segment));
  }
  const lead = path.startsWith("/") ? "/" : "";
  return `${lead}${kept.join("/")}${kept.length > 0 && path.endsWith("/") ? "/" : ""}`;
}

/**
 * Canonical query string: names and values encoded, sorted by encoded name, a repeated name's pairs
 * sorted by value; `X-Amz-Signature` left out. An empty array contributes nothing.
 */
export function canonicalQuery(query: Readonly<Record<string, string | readonly string[]>> = {}): string {
  const byName = new Map<string, string>();
  for (const name of Object.keys(query)) {
    if (name.toLowerCase() === "x-amz-signature") continue;
    const value = query[name];
    const encoded = uriEncode(name);
    if (typeof value === "string") byName.set(encoded, `${encoded}=${uriEncode(value)}`);
    else if (Array.isArray(value) && value.length > 0)
      byName.set(
        encoded,
        value
          .map((v: string) => `${encoded}=${uriEncode(v)}`)
          .sort()
          .join("&"),
      );
  }
  return [...byName.keys()]
    .sort()
    .map((k) => byName.get(k))
    .join("&");
}

const needsFolding = /[\r\n\t]| {2}|^ | $/;

/** A header value as it is signed: line breaks to spaces, runs of spaces and tabs to one, ends trimmed. */
export function canonicalHeaderValue(value: string): string {
  // Most values have nothing to fold or trim; one test instead of three replacements.
  if (!needsFolding.test(value)) return value;
  return value
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
}

/** The headers a signature covers (lower-case name → canonical value), unsignable ones left out. */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of Object.keys(headers).sort()) {
    const value = headers[name];
    if (value === undefined || value === null) continue;
    const lower = name.toLowerCase();
    if (unsignable.has(lower) || lower.startsWith("proxy-") || lower.startsWith("sec-")) continue;
    out.set(lower, canonicalHeaderValue(value));
  }
  return out;
}

// The derived key depends only on secret, day, region and service, so a process signs with a handful
// of them all day: the four HMACs of the derivation run once per day and service, not per request.
const keyCache = new Map<string, Buffer>();
const keyCacheSize = 50;

/** The SigV4 signing key of one secret, day (`YYYYMMDD`), region and service; cached. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${date}\n${region}\n${service}\n${secret}`;
  const hit = keyCache.get(id);
  if (hit) return hit;
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  if (keyCache.size >= keyCacheSize) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(id, key);
  return key;
}

/** Everything one signature covers. Header names lower case; values as they will be sent. */
export interface SigningInput {
  readonly method: string;
  /** The canonical path (see {@link canonicalPath}). */
  readonly canonicalUri: string;
  /** The canonical query string (see {@link canonicalQuery}). */
  readonly canonicalQuery: string;
  /** Lower-case name → value; every entry is signed. */
  readonly headers: ReadonlyMap<string, string>;
  readonly payloadHash: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  readonly region: string;
  readonly service: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The signature (hex) of `input`, and the signed-header list and scope that go with it. */
export function signature(input: SigningInput): { signature: string; signedHeaders: string; scope: string } {
  const names = [...input.headers.keys()].sort();
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    input.method,
    input.canonicalUri,
    input.canonicalQuery,
    names.map((n) => `${n}:${canonicalHeaderValue(input.headers.get(n) ?? "")}\n`).join(""),
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const date = input.amzDate.slice(0, 8);
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = `${algorithm}\n${input.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(input.secretAccessKey, date, input.region, input.service);
  return { signature: hmac(key, stringToSign).toString("hex"), signedHeaders, scope };
}

/** The `Authorization` header value for `input`. */
export function authorizationHeader(input: SigningInput): string {
  const signed = signature(input);
  return `${algorithm} Credential=${input.accessKeyId}/${signed.scope}, SignedHeaders=${signed.signedHeaders}, Signature=${signed.signature}`;
}

function headerValue(headers: Readonly<Record<string, string>>, lower: string): string | undefined {
  for (const name of Object.keys(headers)) if (name.toLowerCase() === lower) return headers[name];
  return undefined;
}

function payloadHash(request: SignableRequest): string {
  const declared = headerValue(request.headers, "x-amz-content-sha256");
  if (declared !== undefined) return declared;
  return request.body === undefined ? emptySha256 : sha256Hex(request.body);
}

function assertCredentials(credentials: SigningCredentials): void {
  if (
    typeof credentials?.accessKeyId !== "string" ||
    typeof credentials.secretAccessKey !== "string" ||
    credentials.accessKeyId === "" ||
    credentials.secretAccessKey === ""
  ) {
    // Never sign with nothing: an empty secret would still produce a (useless) signature.
    throw new TypeError("SigV4: credentials need an access key id and a secret access key");
  }
}

/**
 * Signs a request in its headers: adds `x-amz-date`, `x-amz-security-token` (with a session token),
 * `x-amz-content-sha256` (unless turned off) and `authorization`. Every other header given is signed
 * except the unsignable ones (`user-agent`, `connection`, …), so set `host` before signing.
 */
export function signRequest(request: SignableRequest, options: HeaderSigningOptions): SignedRequest {
  assertCredentials(options.credentials);
  const headers: Record<string, string> = {};
  for (const name of Object.keys(request.headers)) {
    if (!generated.has(name.toLowerCase())) headers[name] = request.headers[name] as string;
  }
  const amzDate = toAmzDate(options.date ?? new Date());
  headers["x-amz-date"] = amzDate;
  if (options.credentials.sessionToken) headers["x-amz-security-token"] = options.credentials.sessionToken;
  const hash = payloadHash({ ...request, headers });
  if (options.contentSha256Header !== false && headerValue(headers, "x-amz-content-sha256") === undefined) {
    headers["x-amz-content-sha256"] = hash;
  }
  headers.authorization = authorizationHeader({
    method: request.method,
    canonicalUri: canonicalPath(request.path),
    canonicalQuery: canonicalQuery(request.query),
    headers: canonicalHeaders(headers),
    payloadHash: hash,
    amzDate,
    region: options.region,
    service: options.service,
    accessKeyId: options.credentials.accessKeyId,
    secretAccessKey: options.credentials.secretAccessKey,
  });
  return { ...request, headers, query: { ...request.query } };
}

/**
 * Presigns a request in its query (a URL someone else may send, e.g. an RDS IAM auth token): moves
 * `x-amz-*` headers into the query, adds `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`,
 * `-SignedHeaders`, `-Security-Token` (with a session token) and `-Signature`. The remaining headers
 * (at least `host`) are signed and must be sent as given.
 */
export function presignRequest(request: SignableRequest, options: PresignOptions): SignedRequest {
  assertCredentials(options.credentials);
  const expiresIn = options.expiresIn ?? 3600;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
    throw new RangeError("SigV4: a presigned request expires after 1 to 604800 seconds");
  }
  const amzDate = toAmzDate(options.date ?? new Date());
  const headers: Record<string, string> = {};
  const query: Record<string, string | readonly string[]> = { ...request.query };
  for (const name of Object.keys(request.headers)) {
    const lower = name.toLowerCase();
    if (generated.has(lower)) continue;
    if (lower.startsWith("x-amz-")) query[name] = request.headers[name] as string;
    else headers[name] = request.headers[name] as string;
  }
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${options.region}/${options.service}/aws4_request`;
  if (options.credentials.sessionToken) query["X-Amz-Security-Token"] = options.credentials.sessionToken;
  query["X-Amz-Algorithm"] = algorithm;
  query["X-Amz-Credential"] = `${options.credentials.accessKeyId}/${scope}`;
  query["X-Amz-Date"] = amzDate;
  query["X-Amz-Expires"] = String(expiresIn);
  const signedHeaders = canonicalHeaders(headers);
  query["X-Amz-SignedHeaders"] = [...signedHeaders.keys()].sort().join(";");
  query["X-Amz-Signature"] = signature({
    method: request.method,
    canonicalUri: canonicalPath(request.path),
    canonicalQuery: canonicalQuery(query),
    headers: signedHeaders,
    payloadHash: payloadHash(request),
    amzDate,
    region: options.region,
    service: options.service,
    accessKeyId: options.credentials.accessKeyId,
    secretAccessKey: options.credentials.secretAccessKey,
  }).signature;
  return { ...request, headers, query };
}

/**
 * A query string as the SDK's `formatUrl` writes it: names sorted (as given, before encoding), names
 * and values SigV4-encoded, a repeated name once per value.
 */
export function formatQuery(query: Readonly<Record<string, string | readonly string[]>>): string {
  const parts: string[] = [];
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    const key = uriEncode(name);
    if (typeof value === "string") parts.push(`${key}=${uriEncode(value)}`);
    else if (Array.isArray(value)) for (const v of value as string[]) parts.push(`${key}=${uriEncode(v)}`);
  }
  return parts.join("&");
}
