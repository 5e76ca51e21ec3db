import { AwsV4Signer, amzDate, signingKeys } from "@veil/aws/sigv4";
import { headers as headerNames } from "@veil/core";
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
 * with SigV4 (aws4fetch's `AwsV4Signer`), exactly as API Gateway will see it:
 *
 * - host: the origin's domain name (CloudFront sends that as `Host` to a custom origin);
 * - path: the origin path (the stage, e.g. `/prod`) followed by the viewer's URI, still encoded;
 * - query: the query string CloudFront forwards;
 * - payload: the body bytes as forwarded (never a truncated body: that gets a 413);
 * - signed headers: `host`, `x-amz-date`, `x-amz-security-token`, plus `content-type` and the identity
 *   header when present. Never `via`, `x-forwarded-for` or `content-length`, which CloudFront sets
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
      return await signRequest(event, options, credentials, now);
    } catch {
      return generatedResponse(502);
    }
  };
}

async function signRequest(
  event: CloudFrontRequestEvent,
  options: OriginRequestHandlerOptions,
  credentials: () => EdgeCredentials | undefined,
  now: () => Date,
): Promise<CloudFrontRequest | CloudFrontResultResponse> {
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
  const contentType = headers["content-type"];
  if (contentType !== undefined && contentType.length > 0) {
    toSign["content-type"] = contentType.map((h) => h.value.trim()).join(",");
  }
  const query = request.querystring ? `?${request.querystring}` : "";
  const signed = await new AwsV4Signer({
    method,
    url: `${origin.protocol}://${host}${path}${query}`,
    headers: toSign,
    ...(body.length > 0 ? { body } : {}),
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}),
    service,
    region: options.region,
    datetime: amzDate(now()),
    // Exactly the headers given are signed; content-type is one (aws4fetch leaves it out by default).
    allHeaders: true,
    cache: signingKeys,
  }).sign();

  setHeader(headers, "host", signed.url.host);
  for (const [name, value] of signed.headers) {
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
 * Whether the path can be signed as it is forwarded: only characters a URL path carries unescaped, and
 * no escaped dot segment (`%2e`). A URL parser would rewrite anything else (escape `{`, turn `\` into
 * `/`, drop `/%2e/`) before signing, while API Gateway verifies the path exactly as received.
 */
function signablePath(path: string): boolean {
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(path)) return false;
  return path.split("/").every((segment) => {
    const dots = segment.replace(/%2e/gi, ".");
    return dots === segment || (dots !== "." && dots !== "..");
  });
}

/**
 * Whether the query can be signed as it is forwarded: every escape well formed (API Gateway could not
 * verify a broken one either), every parameter named (the signer drops nameless ones), no fragment.
 */
function signableQuery(query: string): boolean {
  if (query.includes("#")) return false;
  for (const part of query.split("&")) {
    if (part === "") continue;
    if (part.startsWith("=")) return false;
    try {
      decodeURIComponent(part);
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The body as CloudFront forwards it (`data`, base64 unless `encoding` is `text`); empty when there is
 * none; `undefined` when it cannot be known. A fresh buffer each time: signing is asynchronous, so two
 * requests of the same instance may be signing at once.
 */
function bodyBytes(request: CloudFrontRequest): Buffer | undefined {
  const body = request.body;
  if (body === undefined)
    return bodilessMethods.has(request.method.toUpperCase()) ? Buffer.alloc(0) : undefined;
  return Buffer.from(body.data, body.encoding === "text" ? "utf8" : "base64");
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
