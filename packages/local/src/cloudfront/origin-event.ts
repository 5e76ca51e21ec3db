import { randomBytes } from "node:crypto";
import type { CloudFrontHeaders, CloudFrontRequest, CloudFrontRequestEvent } from "aws-lambda";

/** Lambda@Edge gets at most 1 MB of an origin-request body; the rest is cut and flagged. */
export const edgeBodyLimit = 1024 * 1024;

/** Where CloudFront forwards `/api/*`: the API's custom origin. */
export interface ApiOrigin {
  /** Host name (and `:port` when not 443) of the API, as CloudFront's `domainName`. */
  readonly domainName: string;
  readonly port: number;
  readonly protocol: "http" | "https";
  /** Origin path prefix (the API stage, e.g. `/dev`). */
  readonly path: string;
  /** Origin custom headers CloudFront adds (e.g. the API key). */
  readonly customHeaders: Record<string, string>;
}

// Headers the viewer sends that CloudFront never forwards to the origin as-is.
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
]);

/** Converts Node's incoming headers to CloudFront's `{ name: [{ key, value }] }` shape. */
export function toCloudFrontHeaders(raw: readonly string[]): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string;
    const name = key.toLowerCase();
    if (hopByHop.has(name)) continue;
    const list = out[name] ?? [];
    list.push({ key, value: raw[i + 1] as string });
    out[name] = list;
  }
  return out;
}

/** Builds a real origin-request event (as CloudFront sends it with `includeBody`). */
export function buildOriginRequestEvent(input: {
  readonly method: string;
  readonly uri: string;
  readonly querystring: string;
  readonly rawHeaders: readonly string[];
  readonly clientIp: string;
  readonly body: Buffer;
  readonly origin: ApiOrigin;
  readonly distributionDomainName: string;
  readonly distributionId: string;
  readonly requestId: string;
}): CloudFrontRequestEvent {
  const headers = toCloudFrontHeaders(input.rawHeaders);
  headers.host = [{ key: "Host", value: input.origin.domainName }];
  const customHeaders: CloudFrontHeaders = {};
  for (const [k, v] of Object.entries(input.origin.customHeaders))
    customHeaders[k.toLowerCase()] = [{ key: k, value: v }];
  const truncated = input.body.length > edgeBodyLimit;
  const request: CloudFrontRequest = {
    clientIp: input.clientIp,
    method: input.method,
    uri: input.uri,
    querystring: input.querystring,
    headers,
    body: {
      action: "read-only",
      data: input.body.subarray(0, edgeBodyLimit).toString("base64"),
      encoding: "base64",
      inputTruncated: truncated,
    },
    origin: {
      custom: {
        customHeaders,
        domainName: input.origin.domainName,
        keepaliveTimeout: 5,
        path: input.origin.path,
        port: input.origin.port,
        protocol: input.origin.protocol,
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
            distributionDomainName: input.distributionDomainName,
            distributionId: input.distributionId,
            eventType: "origin-request",
            requestId: input.requestId,
          },
          request,
        },
      },
    ],
  };
}

/** A CloudFront-style request id (`X-Amz-Cf-Id`). */
export function newCloudFrontId(): string {
  return randomBytes(42).toString("base64url").slice(0, 56);
}
