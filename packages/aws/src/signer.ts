/**
 * The SigV4 signer every AWS call of Veil goes through: `aws4`'s `RequestSigner`, a small, widely used
 * signer on node:crypto (synchronous). This file only fixes how Veil calls it, once for the handlers
 * and the edge: exactly the headers given are signed (the signer adds none of its own), the signing
 * time is the caller's clock, and the result is plain header values. The edge imports it as
 * `@veil/aws/sigv4`.
 */
import aws4 from "aws4";

/** The credentials a signature is made with. */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** One request to sign. */
export interface SigningRequest {
  readonly method: string;
  /** The `Host` the receiver sees: host name, plus `:port` when the port is not the scheme's default. */
  readonly host: string;
  /**
   * The request target as sent, still encoded: path, then `?query` if any. The signer encodes the path
   * once more (every service but S3 verifies it that way) and removes `.`/`..` segments and `//`.
   */
  readonly path: string;
  /** Further headers to sign and send, lower-case names (e.g. `content-type`, `x-amz-target`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body bytes as sent; hashed into the signature. Default: empty. */
  readonly body?: string | Buffer;
  /** Signing name, e.g. `kms`, `execute-api`. */
  readonly service: string;
  readonly region: string;
  /** Signing time. */
  readonly date: Date;
}

/** `2026-01-02T03:04:05.678Z` → `20260102T030405Z`, SigV4's `X-Amz-Date`. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/**
 * Signs a request with an `Authorization` header. Returns every header to send with it, all signed:
 * `host`, `x-amz-date`, `x-amz-security-token` (temporary credentials), the given ones and
 * `authorization`. Headers the transport adds afterwards (`content-length`, …) are not signed.
 * Derived signing keys are cached by the signer (per secret, day, region and service; 1000 at most).
 *
 * @example
 * const headers = signRequest(
 *   { method: "POST", host: "kms.eu-central-2.amazonaws.com", path: "/", body, service: "kms", region, date: new Date(),
 *     headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Decrypt" } },
 *   credentials,
 * );
 */
export function signRequest(
  request: SigningRequest,
  credentials: SigningCredentials,
): Record<string, string> {
  const headers: Record<string, string> = { ...request.headers, host: request.host };
  headers["x-amz-date"] = amzDate(request.date);
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const signer = new aws4.RequestSigner(
    {
      method: request.method,
      host: request.host,
      path: request.path,
      headers,
      body: request.body ?? "",
      service: request.service,
      region: request.region,
      // Sign exactly `headers`: no default content-type, content-length or token header of the signer's.
      doNotModifyHeaders: true,
    },
    credentials,
  );
  // With doNotModifyHeaders the signer would take the time from its own clock; it must be ours.
  signer.datetime = headers["x-amz-date"];
  headers.authorization = signer.authHeader();
  return headers;
}

/**
 * Presigns a `GET` (`signQuery`): returns `path` with the SigV4 query parameters added (`X-Amz-Date`,
 * `X-Amz-Credential`, `X-Amz-SignedHeaders=host`, `X-Amz-Security-Token`, `X-Amz-Signature`), written
 * as Node's `querystring` writes them, in the signer's order. Put `X-Amz-Expires` in `path` yourself.
 *
 * @example
 * const target = presignPath({ method: "GET", host: "db:5432", path: "/?Action=connect&DBUser=u&X-Amz-Expires=900",
 *   service: "rds-db", region, date: new Date() }, credentials);
 */
export function presignPath(request: SigningRequest, credentials: SigningCredentials): string {
  const signer = new aws4.RequestSigner(
    {
      method: request.method,
      host: request.host,
      path: request.path,
      headers: { ...request.headers, host: request.host },
      service: request.service,
      region: request.region,
      signQuery: true,
    },
    credentials,
  );
  signer.datetime = amzDate(request.date);
  return signer.sign().path ?? request.path;
}
