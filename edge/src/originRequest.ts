import { headers as headerNames } from "@veil/core";
import type {
  CloudFrontCustomOrigin,
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontResultResponse,
} from "aws-lambda";
import { generatedResponse } from "./responses.ts";
import { authorizationHeader, canonicalQueryString, canonicalUri, sha256Hex, toAmzDate } from "./sigv4.ts";

/** AWS credentials of the function's execution role. */
export interface EdgeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options of {@link createOriginRequestHandler}. */
export interface OriginRequestHandlerOptions {
  /** Region of the API Gateway; fixed at build time in production, never `AWS_REGION`. */
  readonly region: string;
  /** When set, refuse (502) to sign for any other origin host. */
  readonly apiHost?: string;
  /** Credentials source. Default: the Lambda runtime variables `AWS_ACCESS_KEY_ID`, … */
  readonly credentials?: () => EdgeCredentials | undefined;
  /** Clock. Default: `new Date()`. */
  readonly now?: () => Date;
}

/** The origin-request function: the signed request to forward, or a generated error response. */
export type OriginRequestHandler = (
  event: CloudFrontRequestEvent,
) => Promise<CloudFrontRequest | CloudFrontResultResponse>;

/** API Gateway's signing name. */
const service = "execute-api";
/** Methods whose body is never signed: the empty-string hash is used whether or not a body object came. */
const bodilessMethods = new Set(["GET", "HEAD", "DELETE", "OPTIONS"]);
/** Headers the viewer may not set: the signer owns them. */
const ownedHeaders = [
  "authorization",
  "x-amz-date",
  "x-amz-security-token",
  "x-amz-content-sha256",
  headerNames.identity,
];
const bearerRe = /^Bearer +[A-Za-z0-9._~+/=-]+$/;

/** Reads the execution role's credentials from the Lambda runtime variables. */
export function environmentCredentials(): EdgeCredentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = process.env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = process.env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/**
 * Creates the Lambda@Edge origin-request handler that signs each request for API Gateway (IAM auth)
 * with SigV4, exactly as API Gateway will see it:
 *
 * - host: the origin's domain name (CloudFront sends that as `Host` to a custom origin);
 * - path: the origin path (the stage, e.g. `/prod`) followed by the viewer's URI, still encoded;
 * - query: the query string CloudFront forwards;
 * - payload: SHA-256 of the body bytes as forwarded (never of a truncated body: that gets a 413);
 * - signed headers: `host`, `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token`, plus
 *   `content-type` and the identity header when present. Never `via`, `x-forwarded-for` or
 *   `content-length`, which CloudFront sets after the function, nor the origin custom headers
 *   (`x-api-key`), which CloudFront adds itself.
 *
 * The viewer's `Authorization: Bearer <token>` moves to the identity header (signed) so SigV4 can own
 * `Authorization`. Any failure answers 502 (or 400 for a request that cannot be signed) and never
 * forwards the request unsigned.
 */
export function createOriginRequestHandler(options: OriginRequestHandlerOptions): OriginRequestHandler {
  const credentials = options.credentials ?? environmentCredentials;
  const now = options.now ?? (() => new Date());
  return async (event) => {
    try {
      return signRequest(event, options, credentials, now);
    } catch {
      return generatedResponse(502);
    }
  };
}

function signRequest(
  event: CloudFrontRequestEvent,
  options: OriginRequestHandlerOptions,
  credentials: () => EdgeCredentials | undefined,
  now: () => Date,
): CloudFrontRequest | CloudFrontResultResponse {
  const request = event.Records[0]?.cf.request;
  const origin = request?.origin?.custom;
  if (request === undefined || origin === undefined || !options.region) return generatedResponse(502);
  if (request.body?.inputTruncated) return generatedResponse(413);

  const host = originHost(origin);
  if (options.apiHost !== undefined && host !== options.apiHost) return generatedResponse(502);
  const creds = credentials();
  if (creds === undefined || !creds.accessKeyId || !creds.secretAccessKey) return generatedResponse(502);

  const method = request.method.toUpperCase();
  const body = bodyBytes(request);
  if (body === undefined) return generatedResponse(502); // includeBody is off: the body cannot be hashed
  if (bodilessMethods.has(method) && body.length > 0) return generatedResponse(400);

  let query: string;
  let path: string;
  try {
    query = canonicalQueryString(request.querystring);
    path = canonicalUri(`${origin.path}${request.uri}`);
  } catch {
    return generatedResponse(400); // malformed escape: API Gateway could not verify it either
  }

  const viewerAuthorization = request.headers.authorization ?? [];
  if (viewerAuthorization.length > 1) return generatedResponse(400);
  const bearer = viewerAuthorization[0]?.value.trim();
  const headers = request.headers;
  for (const name of ownedHeaders) delete headers[name];

  const amzDate = toAmzDate(now());
  const payloadHash = sha256Hex(body);
  const signed = new Map<string, string>([
    ["host", host],
    ["x-amz-content-sha256", payloadHash],
    ["x-amz-date", amzDate],
  ]);
  if (creds.sessionToken) signed.set("x-amz-security-token", creds.sessionToken);
  // Only a well-formed bearer token travels on; any other Authorization scheme is dropped.
  if (bearer !== undefined && bearerRe.test(bearer)) signed.set(headerNames.identity, bearer);
  const contentType = headers["content-type"];
  if (contentType !== undefined && contentType.length > 0) {
    signed.set("content-type", contentType.map((h) => h.value.trim()).join(","));
  }

  for (const [name, value] of signed) {
    if (name !== "content-type") setHeader(headers, name, value);
  }
  setHeader(
    headers,
    "authorization",
    authorizationHeader({
      method,
      canonicalUri: path,
      canonicalQuery: query,
      headers: signed,
      payloadHash,
      amzDate,
      region: options.region,
      service,
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
    }),
  );
  return request;
}

/**
 * The host API Gateway will see: the origin's domain name, with the port when it is not the protocol's
 * default (only ever the case for a local stand-in; CloudFront → API Gateway is always 443).
 */
function originHost(origin: CloudFrontCustomOrigin): string {
  const standard = origin.protocol === "https" ? 443 : 80;
  if (origin.domainName.includes(":") || !origin.port || origin.port === standard) return origin.domainName;
  return `${origin.domainName}:${origin.port}`;
}

/** Bodies from this size on are decoded into the reused buffer below. */
const reuseFromBytes = 64 * 1024;
// The decoded body is only hashed and measured, never kept: signing is synchronous, so one buffer per
// instance serves every request. Saves a fresh allocation (and its page faults) per large body, which
// costs about a tenth of hashing 1 MB.
let decodeBuffer: Buffer | undefined;

/**
 * The body as CloudFront forwards it; empty when there is none; `undefined` when it cannot be known.
 * Valid only until the next call (large bodies share one buffer).
 */
function bodyBytes(request: CloudFrontRequest): Buffer | undefined {
  const body = request.body;
  if (body === undefined)
    return bodilessMethods.has(request.method.toUpperCase()) ? Buffer.alloc(0) : undefined;
  if (body.encoding === "text") return Buffer.from(body.data, "utf8");
  const maxBytes = Math.ceil(body.data.length / 4) * 3;
  if (maxBytes < reuseFromBytes) return Buffer.from(body.data, "base64");
  if (decodeBuffer === undefined || decodeBuffer.length < maxBytes) {
    decodeBuffer = Buffer.allocUnsafeSlow(maxBytes);
  }
  return decodeBuffer.subarray(0, decodeBuffer.write(body.data, "base64"));
}

/** Display casing of the few header names the signer sets (`x-amz-date` → `X-Amz-Date`), computed once. */
const headerKeys = new Map<string, string>();

function setHeader(headers: CloudFrontHeaders, name: string, value: string): void {
  let key = headerKeys.get(name);
  if (key === undefined) {
    key = name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
    if (headerKeys.size < 32) headerKeys.set(name, key);
  }
  headers[name] = [{ key, value }];
}
