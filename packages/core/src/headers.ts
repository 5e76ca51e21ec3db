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

/**
 * What an `Idempotency-Key` may be: 8-128 characters of `A-Z a-z 0-9 _ . : -` (a UUID fits); any
 * other value is refused with 400 before the body is read.
 */
export const idempotencyKeyPattern = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Paths under this prefix go to the API; everything else is the static web app. */
export const apiPrefix = "/api/";
