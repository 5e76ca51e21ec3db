/**
 * Proof-of-possession (RFC 9449 DPoP): every request carries a proof JWT signed with a key only the
 * browser holds. Checked with `jose` (signature with the embedded public key, ES256 only, `typ`), then
 * the claims: method and URL of this request, freshness, the hash of this access token, a `jti` never
 * seen, and the sign-in session's binding to the proof key (first use binds). Every failure is the same
 * generic 401.
 */
import { createHash, type JsonWebKey } from "node:crypto";
import { proofOfPossession } from "@veil/core";
import { sealKeyThumbprint } from "@veil/crypto";
import { proofs, type Queryable } from "@veil/db";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { calculateJwkThumbprint, EmbeddedJWK, type JWTPayload, jwtVerify } from "jose";
import { UnauthorizedError } from "./errors.ts";
import { header } from "./http.ts";

/** What a verified proof gives the request: its id and key thumbprint, and the key to seal the answer to. */
export interface VerifiedProof {
  readonly proof: { readonly jti: string; readonly jkt: string };
  /** The browser's public sealing key (`sek`, RSA-OAEP-256), already checked against the contract. */
  readonly sealKey: JsonWebKey;
}

/** The verified access token a proof must go with. */
export interface ProofToken {
  /** The access token exactly as sent (its SHA-256 is the proof's `ath`). */
  readonly token: string;
  readonly sub: string;
  /** The token's `origin_jti`: one per sign-in, the same across refreshes. */
  readonly originJti: string;
}

/** Verifies the request's proof for the given (already verified) access token. */
export type VerifyProof = (event: APIGatewayProxyEvent, token: ProofToken) => Promise<VerifiedProof>;

export interface ProofVerifierOptions {
  /** Where seen `jti`s and session bindings live (the function's pool). */
  readonly db: Queryable;
  /** Clock in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Purge expired `jti`s on one request in this many (0: never). Default 64. */
  readonly purgeEvery?: number;
  /**
   * Session bindings older than this are purged with them: longer than any refresh token lives, so a
   * live session never loses its binding (which its next request would make again). Default 31 days.
   */
  readonly sessionMaxAgeSeconds?: number;
  /**
   * An erasure's revocation markers older than this are purged with them: longer than any access token
   * lives. Default `proofOfPossession.revocationSeconds` of @veil/core.
   */
  readonly revocationSeconds?: number;
}

const compactJws = /^[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{1,8192}\.[A-Za-z0-9_-]{1,512}$/;
const jtiPattern = /^[A-Za-z0-9_-]{22,256}$/;
const loopbackHosts = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The one `DPoP` header value, or nothing (absent, or sent more than once). */
function proofHeader(event: APIGatewayProxyEvent): string | undefined {
  const name = proofOfPossession.header;
  for (const [k, v] of Object.entries(event.multiValueHeaders ?? {}))
    if (k.toLowerCase() === name && (v?.length ?? 0) > 1) return undefined;
  const value = header(event, name);
  return value !== undefined && compactJws.test(value) ? value : undefined;
}

/** Whether `htu` names this request: the viewer's host and this path, https (http on loopback only). */
function sameUrl(htu: unknown, event: APIGatewayProxyEvent): boolean {
  const viewerHost = header(event, proofOfPossession.viewerHostHeader);
  if (typeof htu !== "string" || !viewerHost || /[/?#@\\\s]/.test(viewerHost)) return false;
  try {
    const claimed = new URL(htu);
    // Parsed with the claimed scheme, so a default port written out or left off compares equal.
    const expected = new URL(`${claimed.protocol}//${viewerHost}`);
    const scheme =
      claimed.protocol === "https:" || (claimed.protocol === "http:" && loopbackHosts.has(expected.hostname));
    return (
      scheme &&
      claimed.username === "" &&
      claimed.password === "" &&
      claimed.host === expected.host &&
      claimed.pathname === event.path
    );
  } catch {
    return false;
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("base64url");

/**
 * Builds the proof verifier.
 *
 * @example
 * const verifyProof = createProofVerifier({ db: pool });
 * const { proof, sealKey } = await verifyProof(event, { token, sub, originJti });
 */
export function createProofVerifier(options: ProofVerifierOptions): VerifyProof {
  const now = options.now ?? Date.now;
  const purgeEvery = options.purgeEvery ?? 64;
  let requests = 0;
  return async (event, token) => {
    const jwt = proofHeader(event);
    if (!jwt || !token.originJti) throw new UnauthorizedError();
    let payload: JWTPayload;
    let jkt: string;
    let sealKey: JsonWebKey;
    try {
      const verified = await jwtVerify(jwt, EmbeddedJWK, {
        algorithms: [proofOfPossession.algorithm],
        typ: proofOfPossession.type,
        currentDate: new Date(now()),
      });
      payload = verified.payload;
      const seconds = Math.floor(now() / 1000);
      const { iat, jti, htm, ath } = payload;
      if (typeof iat !== "number" || !Number.isFinite(iat)) throw new UnauthorizedError();
      if (seconds - iat > proofOfPossession.maxAgeSeconds) throw new UnauthorizedError();
      if (iat - seconds > proofOfPossession.maxFutureSeconds) throw new UnauthorizedError();
      if (typeof jti !== "string" || !jtiPattern.test(jti)) throw new UnauthorizedError();
      if (htm !== event.httpMethod || !sameUrl(payload.htu, event)) throw new UnauthorizedError();
      if (ath !== sha256(token.token)) throw new UnauthorizedError();
      const sek = payload[proofOfPossession.sealKeyClaim];
      await sealKeyThumbprint(sek);
      sealKey = sek as JsonWebKey;
      jkt = await calculateJwkThumbprint(verified.protectedHeader.jwk as never, "sha256");
    } catch {
      throw new UnauthorizedError();
    }
    const jti = payload.jti as string;
    const use = await proofs.recordUse(options.db, {
      jti,
      originJti: token.originJti,
      ownerId: token.sub,
      jkt,
      rememberSeconds: proofOfPossession.replayWindowSeconds,
    });
    // A session or owner revoked by an account erasure is refused like any other failure.
    if (!use.fresh || use.revoked || use.binding?.jkt !== jkt || use.binding.ownerId !== token.sub) {
      throw new UnauthorizedError();
    }
    if (purgeEvery > 0 && ++requests % purgeEvery === 0) {
      // Opportunistic: a failed purge leaves rows for the next one and never fails the request.
      const sessionsBefore = new Date(now() - 1000 * (options.sessionMaxAgeSeconds ?? 31 * 24 * 3600));
      const revokedBefore = new Date(
        now() - 1000 * (options.revocationSeconds ?? proofOfPossession.revocationSeconds),
      );
      await proofs.purgeExpired(options.db, { limit: 500, sessionsBefore, revokedBefore }).catch(() => 0);
    }
    return { proof: { jti, jkt }, sealKey };
  };
}
