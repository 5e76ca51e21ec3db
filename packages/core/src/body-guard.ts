/**
 * The only request body CloudFront's field-level encryption encrypts is a POST of exactly this content
 * type; any other body passes through it in clear. The body guard, a CloudFront Function on the API's
 * viewer requests (infra/cdn.ts, and the local CloudFront running the same source), refuses every other
 * body before it reaches FLE, the edge signer or the origin.
 */
import { proofOfPossession } from "./sealing.ts";

export const fleContentType = "application/x-www-form-urlencoded";

/** The headers the guard reads, every value of each (a header may be repeated). */
export interface GuardedHeaders {
  readonly contentType?: readonly string[];
  readonly contentEncoding?: readonly string[];
}

/**
 * The guard's decision for one request: `undefined` lets it through, otherwise the status to answer.
 * POST must carry exactly one content type, exactly `fleContentType` (with a `; charset=…` suffix
 * CloudFront may not treat it as the configured type: it would not encrypt), and no content encoding
 * (FLE cannot parse a compressed form); PUT and PATCH bodies are never encrypted.
 */
export function bodyGuard(method: string, headers: GuardedHeaders): 405 | 415 | undefined {
  if (method === "PUT" || method === "PATCH") return 405;
  if (method !== "POST") return undefined;
  const types = headers.contentType ?? [];
  if (types.length !== 1 || types[0] !== fleContentType) return 415;
  if ((headers.contentEncoding ?? []).length > 0) return 415;
  return undefined;
}

/**
 * The guard as CloudFront Function source (runtime `cloudfront-js-2.0`, no imports): the same decision
 * as `bodyGuard`, with a JSON error body like the API's (`error`, `message`, `requestId`: CloudFront's
 * request id). It also sets `proofOfPossession.viewerHostHeader` to the viewer's `Host` on every request
 * it passes, replacing any value the viewer sent: the functions check each proof's URL against it
 * (API Gateway sees only the origin's host).
 */
export function bodyGuardFunctionCode(): string {
  return [
    `var FLE_TYPE = ${JSON.stringify(fleContentType)};`,
    `var VIEWER_HOST = ${JSON.stringify(proofOfPossession.viewerHostHeader)};`,
    "function refuse(event, status, text, message) {",
    "  var body = { error: text.replace(/ /g, ''), message: message, requestId: event.context.requestId };",
    "  return {",
    "    statusCode: status,",
    "    statusDescription: text,",
    "    headers: { 'content-type': { value: 'application/json' }, 'cache-control': { value: 'no-store' } },",
    "    body: { encoding: 'text', data: JSON.stringify(body) },",
    "  };",
    "}",
    "function handler(event) {",
    "  var r = event.request;",
    "  delete r.headers[VIEWER_HOST];",
    "  if (r.headers.host) r.headers[VIEWER_HOST] = { value: r.headers.host.value };",
    "  if (r.method === 'PUT' || r.method === 'PATCH')",
    "    return refuse(event, 405, 'Method Not Allowed', 'Send writes as POST: only POST bodies are encrypted at the edge');",
    "  if (r.method !== 'POST') return r;",
    "  var type = r.headers['content-type'];",
    "  var repeated = type && type.multiValue && type.multiValue.length > 1;",
    "  if (!type || repeated || type.value !== FLE_TYPE || r.headers['content-encoding'])",
    "    return refuse(event, 415, 'Unsupported Media Type', 'Send the form as ' + FLE_TYPE + ', once, without parameters or encoding');",
    "  return r;",
    "}",
  ].join("\n");
}
