/** DPoP proofs (RFC 9449) made with `jose`, with Veil's `sek` claim carrying the seal public key. */
import { proofOfPossession } from "@veil/core";
import { base64url, SignJWT } from "jose";
import type { SessionKeys } from "./keys.ts";

/** What a proof is made for. */
export interface ProofRequest {
  readonly method: string;
  /** The URL requested; its query and fragment are left out of `htu`. */
  readonly url: string | URL;
  /** The bearer token the request carries (its hash is the `ath` claim). */
  readonly accessToken: string;
  /** Override claims (tests: a stale `iat`, a wrong `htu`, a reused `jti`). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** A proof and its `jti` (which the sealed answer's encryption context must carry). */
export interface Proof {
  readonly jwt: string;
  readonly jti: string;
}

/** `htu` of a URL: scheme, host and path, without query or fragment. */
export function proofTarget(url: string | URL): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** base64url SHA-256 of an access token (the `ath` claim). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

/**
 * Makes the `DPoP` header value for one request.
 *
 * @example
 * const { jwt, jti } = await makeProof(keys, { method: "GET", url, accessToken });
 * await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, dpop: jwt } });
 */
export async function makeProof(keys: SessionKeys, request: ProofRequest): Promise<Proof> {
  const jti = base64url.encode(globalThis.crypto.getRandomValues(new Uint8Array(18)));
  const claims = {
    htm: request.method.toUpperCase(),
    htu: proofTarget(request.url),
    iat: Math.floor(Date.now() / 1000),
    jti,
    ath: await accessTokenHash(request.accessToken),
    [proofOfPossession.sealKeyClaim]: keys.sealJwk,
    ...request.claims,
  };
  const jwt = await new SignJWT(claims)
    .setProtectedHeader({ typ: proofOfPossession.type, alg: proofOfPossession.algorithm, jwk: keys.proofJwk })
    .sign(keys.proof.privateKey);
  return { jwt, jti: String(claims.jti) };
}
