import { signRequest } from "@veil/aws/sigv4";
import { headers as headerNames, proofOfPossession } from "@veil/core";
import type {
  CloudFrontCustomOrigin,
  CloudFrontHeaders,
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontResultResponse,
} from "aws-lambda";
import { generatedResponse } from "./responses.ts";

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
 * with SigV4 (aws4's signer, through `@veil/aws/sigv4`), exactly as API Gateway will see it:
 *
 * - host: the origin's domain name (CloudFront sends that as `Host` to a custom origin);
 * - path: the origin path (the stage, e.g. `/prod`) followed by the viewer's URI, still encoded;
 * - query: the query string CloudFront forwards;
 * - payload: the body bytes as forwarded (never a truncated body: that gets a 413);
 * - signed headers: `host`, `x-amz-date`, `x-amz-security-token`, plus `content-type`, the identity
 *   header and the viewer host header (set by the viewer-request function from the viewer's `Host`;
 *   the functions check each DPoP proof's URL against it) when present. The `DPoP` proof travels on
 *   unchanged (it is signed by its own key). Never `via`, `x-forwarded-for` or `content-length`, which CloudFront sets
 *   after the function, nor the origin custom headers (`x-api-key`), which CloudFront adds itself.
 *
 * The viewer's `Authorization: Bearer <token>` moves to the identity header (signed) so SigV4 can own
 * `Authorization`. Any failure answers 502 (or 400 for a request that cannot be signed as forwarded)
 * and never forwards the request unsigned.
 *
 * @example
 * const sign = createOriginRequestHandler({ region: "eu-west-1", apiHost: "abc.execute-api.eu-west-1.amazonaws.com" });
 * const out = await sign(event); // the signed request, or a generated 400/413/502
 */
export function createOriginRequestHandler(options: OriginRequestHandlerOptions): OriginRequestHandler {
  const credentials = options.credentials ?? environmentCredentials;
  const now = options.now ?? (() => new Date());
  return async (event) => {
    try {
      return signOriginRequest(event, options, credentials, now);
    } catch {
      return generatedResponse(502);
    }
  };
}

function signOriginRequest(
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
  const path = `${origin.path}${request.uri}`;
  if (!signablePath(path) || !signableQuery(request.querystring)) return generatedResponse(400);

  const viewerAuthorization = request.headers.authorization ?? [];
  if (viewerAuthorization.length > 1) return generatedResponse(400);
  const bearer = viewerAuthorization[0]?.value.trim();
  const headers = request.headers;
  for (const name of ownedHeaders) delete headers[name];

  const toSign: Record<string, string> = {};
  // Only a well-formed bearer token travels on; any other Authorization scheme is dropped.
  if (bearer !== undefined && bearerRe.test(bearer)) toSign[headerNames.identity] = bearer;
  const viewerHost = headers[proofOfPossession.viewerHostHeader];
  if (viewerHost !== undefined && viewerHost.length > 1) return generatedResponse(400);
  const viewerHostValue = viewerHost?.[0]?.value.trim();
  if (viewerHostValue) toSign[proofOfPossession.viewerHostHeader] = viewerHostValue;
  const contentType = headers["content-type"];
  if (contentType !== undefined && contentType.length > 0) {
    toSign["content-type"] = contentType.map((h) => h.value.trim()).join(",");
  }
  const query = request.querystring ? `?${request.querystring}` : "";
  const signed = signRequest(
    {
      method,
      host,
      path: `${path}${query}`,
      headers: toSign,
      body,
      service,
      region: options.region,
      date: now(),
    },
    creds,
  );
  for (const [name, value] of Object.entries(signed)) {
    if (name !== "content-type") setHeader(headers, name, value);
  }
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

/**
 * Characters a URL carries unescaped in a path (and, with `?`, in a query). The signer re-escapes the
 * whole request target when it meets any other (a raw `{`, `\`, space or non-ASCII character), after
 * decoding what it can, so the signature would no longer cover the target API Gateway receives.
 */
const pathChars = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const queryChars = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
/** Parameters the signer's query parser reads (Node's `querystring` stops at 1000). */
const maxQueryParts = 1000;

/**
 * Whether the path can be signed as it is forwarded: only unescaped URL path characters, and no escaped
 * dot segment (`%2e`). The signer keeps `%2e` as text, while RFC 3986 normalisation, which SigV4 cites,
 * reads it as a dot: whether API Gateway removes such a segment is not something to sign a guess on.
 */
function signablePath(path: string): boolean {
  if (!pathChars.test(path)) return false;
  return path.split("/").every((segment) => {
    const dots = segment.replace(/%2e/gi, ".");
    return dots === segment || (dots !== "." && dots !== "..");
  });
}

/**
 * Whether the query can be signed as it is forwarded: only unescaped URL query characters (so no
 * fragment), every escape well formed (API Gateway could not verify a broken one either), every
 * parameter named (the signer drops nameless ones) and none named `__proto__` (the signer collects
 * names in a plain object, where that one is lost), and no more parameters than the signer reads.
 */
function signableQuery(query: string): boolean {
  if (!queryChars.test(query)) return false;
  const parts = query.split("&");
  if (parts.length > maxQueryParts) return false;
  for (const part of parts) {
    if (part === "") continue;
    if (part.startsWith("=")) return false;
    const eq = part.indexOf("=");
    try {
      decodeURIComponent(part);
      if (decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, " ")) === "__proto__") {
        return false;
      }
    } catch {
      return false;
    }
  }
  return true;
}

/** Bodies from this size on are decoded into the reused buffer below. */
const reuseFromBytes = 64 * 1024;
// The decoded body is only hashed, never kept, and signing is synchronous: one buffer per instance
// serves every request, which saves a fresh allocation (and its page faults) per large body.
let decodeBuffer: Buffer | undefined;

/**
 * The body as CloudFront forwards it (`data`, base64 unless `encoding` is `text`); empty when there is
 * none; `undefined` when it cannot be known. Valid only until the next call (large bodies share one
 * buffer).
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
