/**
 * The only request body CloudFront's field-level encryption encrypts is a POST of exactly this content
 * type; any other body passes through it in clear. The body guard, a CloudFront Function on the API's
 * viewer requests (infra/cdn.ts, and the local CloudFront running the same source), refuses every other
 * body before it reaches FLE, the edge signer or the origin.
 */
export const fleContentType = "application/x-www-form-urlencoded";

/**
 * The guard's decision for one request: `undefined` lets it through, otherwise the status to answer.
 * POST must carry exactly `fleContentType` (a `; charset=…` suffix included, CloudFront may not treat
 * it as the configured type: it would not encrypt); PUT and PATCH bodies are never encrypted.
 */
export function bodyGuard(method: string, contentType: string | undefined): 405 | 415 | undefined {
  if (method === "PUT" || method === "PATCH") return 405;
  if (method === "POST" && contentType !== fleContentType) return 415;
  return undefined;
}

/**
 * The guard as CloudFront Function source (runtime `cloudfront-js-2.0`, no imports): the same decision
 * as `bodyGuard`, with a JSON error body like the API's (`error`, `message`, `requestId`: CloudFront's
 * request id).
 */
export function bodyGuardFunctionCode(): string {
  return [
    `var FLE_TYPE = ${JSON.stringify(fleContentType)};`,
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
    "  if (r.method === 'PUT' || r.method === 'PATCH')",
    "    return refuse(event, 405, 'Method Not Allowed', 'Send writes as POST: only POST bodies are encrypted at the edge');",
    "  var type = r.headers['content-type'] ? r.headers['content-type'].value : undefined;",
    "  if (r.method === 'POST' && type !== FLE_TYPE)",
    "    return refuse(event, 415, 'Unsupported Media Type', 'Send the form as ' + FLE_TYPE + ', without parameters');",
    "  return r;",
    "}",
  ].join("\n");
}
