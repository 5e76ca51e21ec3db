import { createRdsTokenSigner } from "@veil/aws";
import { DatabaseUnavailableError } from "./errors.ts";

/** Where an RDS IAM auth token is valid. */
export interface RdsTarget {
  host: string;
  port: number;
  user: string;
  region: string;
}

/** Options of `rdsTokenProvider`. */
export interface RdsTokenOptions extends RdsTarget {
  /**
   * Makes tokens; defaults to the RDS token signer of `@veil/aws` (the same token as
   * `@aws-sdk/rds-signer`) with the default credentials (environment, then container).
   */
  signer?: { getAuthToken(): Promise<string> };
  /** Refresh this long before expiry; default 3 minutes. */
  refreshMarginMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Tokens are valid for 15 minutes (X-Amz-Expires=900); used when the token does not say. */
const defaultLifetimeMs = 15 * 60_000;

/** Expiry from the presigned token itself (`X-Amz-Date` + `X-Amz-Expires`), or undefined. */
export function tokenExpiry(token: string): number | undefined {
  const q = token.indexOf("?");
  if (q < 0) return undefined;
  const params = new URLSearchParams(token.slice(q + 1));
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(params.get("X-Amz-Date") ?? "");
  const expires = Number(params.get("X-Amz-Expires"));
  if (!date || !Number.isFinite(expires) || expires <= 0) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) + expires * 1000;
}

/**
 * Returns an async password function for `pg` that yields an RDS IAM auth token, signing a new one
 * only when the cached one is within `refreshMarginMs` of its expiry (15 minutes after signing).
 * Concurrent callers share one signing. Signing is local (SigV4 presign) but needs credentials; a
 * failure surfaces as `DatabaseUnavailableError` and is not cached.
 */
export function rdsTokenProvider(options: RdsTokenOptions): () => Promise<string> {
  const signer =
    options.signer ??
    createRdsTokenSigner({
      hostname: options.host,
      port: options.port,
      username: options.user,
      region: options.region,
    });
  const now = options.now ?? Date.now;
  const margin = options.refreshMarginMs ?? 3 * 60_000;
  let cached: { token: string; expiresAt: number } | undefined;
  let pending: Promise<string> | undefined;
  return async () => {
    if (cached && now() < cached.expiresAt - margin) return cached.token;
    pending ??= (async () => {
      try {
        const signedAt = now();
        const token = await signer.getAuthToken();
        cached = { token, expiresAt: tokenExpiry(token) ?? signedAt + defaultLifetimeMs };
        return token;
      } catch {
        throw new DatabaseUnavailableError("could not sign an RDS IAM auth token");
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
}
