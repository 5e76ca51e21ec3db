/**
 * The response security headers CloudFront adds to every response (a response-headers policy in AWS,
 * the local CloudFront locally). One definition so both faces send the same policy.
 */
export interface SecurityHeaderOptions {
  /** Extra origins the app may call besides itself (e.g. the Cognito endpoint). */
  readonly connectSrc?: readonly string[];
  /** HSTS max-age in seconds; two years by default. */
  readonly hstsMaxAgeSeconds?: number;
  /** Ask browsers to upgrade http: subresources; off only for the plain-http local edge. */
  readonly upgradeInsecureRequests?: boolean;
}

/** Builds the Content-Security-Policy: no inline or eval'd scripts, no framing, no foreign origins. */
export function contentSecurityPolicy(options: SecurityHeaderOptions = {}): string {
  const connect = ["'self'", ...(options.connectSrc ?? [])].join(" ");
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Amplify UI and React set style attributes; styles cannot run code, scripts stay strict.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.upgradeInsecureRequests === false ? [] : ["upgrade-insecure-requests"]),
  ].join("; ");
}

/** The full header set, lower-case names. */
export function securityHeaders(options: SecurityHeaderOptions = {}): Record<string, string> {
  return {
    "content-security-policy": contentSecurityPolicy(options),
    "strict-transport-security": `max-age=${options.hstsMaxAgeSeconds ?? 63_072_000}; includeSubDomains; preload`,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
  };
}
