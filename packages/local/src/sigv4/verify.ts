import { timingSafeEqual } from "node:crypto";
import { canonicalPath, canonicalQuery, canonicalRequest, headerMap, parseQuery } from "./canonical.ts";
import {
  type AuthParameters,
  algorithm,
  type ParseFailure,
  parseAuthorizationHeader,
  parsePresigned,
} from "./parse.ts";
import { deriveSigningKey, hmac, sha256Hex } from "./signingKey.ts";

/** An HTTP request exactly as the server received it. */
export interface SigV4Request {
  readonly method: string;
  /** Raw request target: still-encoded path plus `?query`, as on the request line. */
  readonly url: string;
  /** Header names in any case; repeated headers as a list (Node's `req.headersDistinct`). */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The body bytes as received (a string is read as UTF-8). Absent means empty. */
  readonly body?: Uint8Array | string;
}

/** What the verifier accepts. */
export interface VerifySigV4Options {
  /** Signing name the scope must carry, e.g. `execute-api`, `kms`, `s3`. */
  readonly service: string;
  /** Region the scope must carry. */
  readonly region: string;
  /** The secret for an access key id, or `undefined` when the key is unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined | Promise<string | undefined>;
  /** Clock for the skew and expiry checks. Default: the current time. */
  readonly now?: Date;
  /** Allowed difference between the request time and `now`. Default 300 (AWS's ±5 minutes). */
  readonly maxSkewSeconds?: number;
  /** Remove dot segments and collapse slashes in the path. Default: true except for `s3`. */
  readonly normalizePath?: boolean;
  /** Escape the received (already-encoded) path once more. Default: true except for `s3`. */
  readonly doubleEncodePath?: boolean;
  /**
   * Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD`, and verify presigned URLs against that literal, as
   * S3 does. Default false: the body is always hashed and that hash is what must have been signed.
   */
  readonly allowUnsignedPayload?: boolean;
  /** Headers that must be among the signed ones whenever the request carries them. `host` always is. */
  readonly requireSigned?: readonly string[];
  /** Longest accepted `X-Amz-Expires`. Default 604800 (7 days, the SigV4 maximum). */
  readonly maxPresignExpiresSeconds?: number;
}

/** Why a request did not verify. Short and stable, meant for code and logs, never for end users. */
export type SigV4FailureReason =
  | ParseFailure
  | "missing-authorization"
  | "ambiguous-authorization"
  | "malformed-url"
  | "malformed-date"
  | "missing-date"
  | "malformed-presign"
  | "scope-mismatch"
  | "unsigned-header-required"
  | "signed-header-missing"
  | "skew"
  | "expired"
  | "unknown-access-key"
  | "unsupported-payload"
  | "payload-hash-mismatch"
  | "bad-signature";

/** The verdict. On success, who signed and how. */
export type SigV4Result =
  | {
      readonly ok: true;
      readonly accessKeyId: string;
      readonly sessionToken?: string;
      readonly signedHeaders: readonly string[];
      readonly presigned: boolean;
      readonly requestTime: Date;
    }
  | { readonly ok: false; readonly reason: SigV4FailureReason };

const amzDateRe = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const unsignedPayload = "UNSIGNED-PAYLOAD";

/** A helper's "no" with its reason, distinguishable from the strings it returns otherwise. */
class Rejection {
  constructor(readonly reason: SigV4FailureReason) {}
}

/** The claims of one request, whichever way (header or query) it was signed. */
interface Claims {
  readonly auth: AuthParameters;
  readonly amzDate: string;
  readonly presignExpires?: number;
  readonly sessionToken: string | undefined;
  readonly query: Array<[string, string]>;
}

/**
 * Verifies an AWS Signature Version 4 (header or presigned query) the way an AWS service does: the
 * canonical request is rebuilt from the raw request and only the signed headers, the body is hashed
 * here (a client's `x-amz-content-sha256` is never trusted), the scope, clock skew and expiry are
 * checked, and the signature is compared in constant time.
 *
 * Async because `secretFor` may be. Never throws for bad input: every failure is a `reason`.
 *
 * @example
 * const r = await verifySigV4({ method, url, headers, body }, { service: "kms", region, secretFor });
 * if (!r.ok) return deny(r.reason);
 */
export async function verifySigV4(request: SigV4Request, options: VerifySigV4Options): Promise<SigV4Result> {
  const fail = (reason: SigV4FailureReason): SigV4Result => ({ ok: false, reason });
  const headers = headerMap(request.headers);

  if (!request.url.startsWith("/")) return fail("malformed-url");
  const q = request.url.indexOf("?");
  const rawPath = q < 0 ? request.url : request.url.slice(0, q);
  const pairs = parseQuery(q < 0 ? "" : request.url.slice(q + 1));
  if (pairs === undefined) return fail("malformed-url");

  const claims = readClaims(headers, pairs, options.maxPresignExpiresSeconds ?? 604800);
  if (typeof claims === "string") return fail(claims);
  const { auth } = claims;

  const dateMatch = amzDateRe.exec(claims.amzDate);
  if (dateMatch === null) return fail("malformed-date");
  const c = auth.credential;
  if (
    c.date !== claims.amzDate.slice(0, 8) ||
    c.region !== options.region ||
    c.service !== options.service ||
    c.terminator !== "aws4_request"
  ) {
    return fail("scope-mismatch");
  }

  const signed = new Set(auth.signedHeaders);
  if (!signed.has("host")) return fail("unsigned-header-required");
  for (const name of options.requireSigned ?? []) {
    if (headers.has(name.toLowerCase()) && !signed.has(name.toLowerCase()))
      return fail("unsigned-header-required");
  }
  for (const name of auth.signedHeaders) if (!headers.has(name)) return fail("signed-header-missing");

  const [, y, mo, d, h, mi, s] = dateMatch.map(Number) as number[];
  const requestTime = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  const now = (options.now ?? new Date()).getTime();
  const skewMs = (options.maxSkewSeconds ?? 300) * 1000;
  if (claims.presignExpires === undefined) {
    if (Math.abs(now - requestTime.getTime()) > skewMs) return fail("skew");
  } else {
    if (requestTime.getTime() - now > skewMs) return fail("skew");
    if (now > requestTime.getTime() + claims.presignExpires * 1000) return fail("expired");
  }

  const secret = await options.secretFor(c.accessKeyId);
  if (secret === undefined) return fail("unknown-access-key");

  const payloadHash = payloadHashOf(request, headers, claims.presignExpires !== undefined, options);
  if (payloadHash instanceof Rejection) return fail(payloadHash.reason);

  const s3 = options.service === "s3";
  const path = canonicalPath(rawPath, {
    normalize: options.normalizePath ?? !s3,
    doubleEncode: options.doubleEncodePath ?? !s3,
  });
  const query = canonicalQuery(claims.query);
  if (path === undefined || query === undefined) return fail("malformed-url");

  const creq = canonicalRequest({
    method: request.method,
    path,
    query,
    headers,
    signedHeaders: auth.signedHeaders,
    payloadHash,
  });
  const scope = `${c.date}/${c.region}/${c.service}/${c.terminator}`;
  const stringToSign = `${algorithm}\n${claims.amzDate}\n${scope}\n${sha256Hex(creq)}`;
  const expected = hmac(deriveSigningKey(secret, c.date, c.region, c.service), stringToSign).toString("hex");
  // Both are 64 lower-case hex characters (the parser enforces it), so the lengths always match.
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) return fail("bad-signature");

  return {
    ok: true,
    accessKeyId: c.accessKeyId,
    ...(claims.sessionToken === undefined ? {} : { sessionToken: claims.sessionToken }),
    signedHeaders: auth.signedHeaders,
    presigned: claims.presignExpires !== undefined,
    requestTime,
  };
}

function readClaims(
  headers: ReadonlyMap<string, readonly string[]>,
  pairs: Array<[string, string]>,
  maxExpires: number,
): Claims | SigV4FailureReason {
  const authorization = headers.get("authorization");
  const presigned = pairs.some(([name]) => name === "X-Amz-Algorithm");
  if (authorization !== undefined && presigned) return "ambiguous-authorization";
  if (authorization === undefined && !presigned) return "missing-authorization";

  if (authorization !== undefined) {
    if (authorization.length !== 1) return "malformed-authorization";
    const auth = parseAuthorizationHeader(authorization[0]!);
    if (typeof auth === "string") return auth;
    const amzDate = dateOf(headers, auth.signedHeaders);
    if (amzDate instanceof Rejection) return amzDate.reason;
    const token = headers.get("x-amz-security-token");
    if (token !== undefined && token.length !== 1) return "malformed-authorization";
    return { auth, amzDate, sessionToken: token?.[0], query: pairs };
  }

  const one = (name: string): string | undefined => {
    const values = pairs.filter(([n]) => n === name);
    return values.length === 1 ? values[0]![1] : undefined;
  };
  const fields = {
    algorithm: one("X-Amz-Algorithm"),
    credential: one("X-Amz-Credential"),
    date: one("X-Amz-Date"),
    expires: one("X-Amz-Expires"),
    signedHeaders: one("X-Amz-SignedHeaders"),
    signature: one("X-Amz-Signature"),
  };
  if (Object.values(fields).some((v) => v === undefined)) return "malformed-presign";
  const f = fields as { [K in keyof typeof fields]: string };
  const expires = /^\d{1,7}$/.test(f.expires) ? Number(f.expires) : 0;
  if (expires < 1 || expires > maxExpires) return "malformed-presign";
  const auth = parsePresigned(f);
  if (typeof auth === "string") return auth;
  if (pairs.filter(([n]) => n === "X-Amz-Security-Token").length > 1) return "malformed-presign";
  return {
    auth,
    amzDate: f.date,
    presignExpires: expires,
    sessionToken: one("X-Amz-Security-Token"),
    query: pairs.filter(([name]) => name !== "X-Amz-Signature"),
  };
}

/** The request time in SigV4 basic format, from `x-amz-date` or else `date`; either must be signed. */
function dateOf(
  headers: ReadonlyMap<string, readonly string[]>,
  signedHeaders: readonly string[],
): string | Rejection {
  const amz = headers.get("x-amz-date");
  if (amz !== undefined) {
    if (amz.length !== 1) return new Rejection("malformed-date");
    if (!signedHeaders.includes("x-amz-date")) return new Rejection("unsigned-header-required");
    return amz[0]!.trim();
  }
  const date = headers.get("date");
  if (date === undefined) return new Rejection("missing-date");
  if (date.length !== 1) return new Rejection("malformed-date");
  if (!signedHeaders.includes("date")) return new Rejection("unsigned-header-required");
  const parsed = new Date(date[0]!);
  if (Number.isNaN(parsed.getTime())) return new Rejection("malformed-date");
  return parsed.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/** The hash the client must have signed: always computed from the body bytes, never read from a header. */
function payloadHashOf(
  request: SigV4Request,
  headers: ReadonlyMap<string, readonly string[]>,
  presigned: boolean,
  options: VerifySigV4Options,
): string | Rejection {
  const claimed = headers.get("x-amz-content-sha256");
  if (claimed !== undefined && claimed.length !== 1) return new Rejection("payload-hash-mismatch");
  const value = claimed?.[0]?.trim();
  if (value === unsignedPayload)
    return options.allowUnsignedPayload ? unsignedPayload : new Rejection("unsupported-payload");
  if (value?.startsWith("STREAMING-")) return new Rejection("unsupported-payload");
  if (presigned && value === undefined && options.allowUnsignedPayload) return unsignedPayload;
  const actual = sha256Hex(request.body ?? new Uint8Array(0));
  if (value !== undefined && value !== actual) return new Rejection("payload-hash-mismatch");
  return actual;
}
