/**
 * Header names shared by the browser, the edge, the gateway and the handlers. All lower case, as
 * CloudFront events and Node's HTTP layer present them.
 */
export const headers = {
  /** API Gateway API key; set by CloudFront as an origin custom header, never by the browser. */
  apiKey: "x-api-key",
  /** The viewer's Cognito token (`Bearer …`), moved here by the edge so SigV4 can own `authorization`. */
  identity: "x-veil-identity",
  /** Correlates a request across hops; echoed in every error body. */
  requestId: "x-veil-request-id",
  /** Makes a retried create return the first result. */
  idempotencyKey: "idempotency-key",
} as const;

/** Paths under this prefix go to the API; everything else is the static web app. */
export const apiPrefix = "/api/";
