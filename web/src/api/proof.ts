/**
 * DPoP proofs (RFC 9449) for API requests, signed with `jose` by the session's non-extractable proof
 * key. Each proof also carries the seal public key (`sek`) the function encrypts its answer to.
 */
import { proofOfPossession } from "@veil/core";
import { base64url, SignJWT } from "jose";
import type { SessionKeys } from "./session-keys.ts";

/** A signed proof and its `jti`, which the sealed answer must name. */
export interface Proof {
  readonly jwt: string;
  readonly jti: string;
}

export interface ProofRequest {
  readonly method: string;
  /** The absolute request URL; its query and fragment are left out of `htu`. */
  readonly url: string;
  readonly accessToken: string;
}

/** base64url of the SHA-256 of the access token: binds the proof to the token it travels with. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

/**
 * Makes the proof for one request.
 *
 * @example
 * const { jwt, jti } = await makeProof(keys, { method: "GET", url: "https://veil.example/api/records", accessToken });
 * headers[proofOfPossession.header] = jwt;
 */
export async function makeProof(keys: SessionKeys, request: ProofRequest): Promise<Proof> {
  const url = new URL(request.url);
  const jti = base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
  const jwt = await new SignJWT({
    htm: request.method.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    ath: await accessTokenHash(request.accessToken),
    [proofOfPossession.sealKeyClaim]: keys.sealJwk,
  })
    .setProtectedHeader({ typ: proofOfPossession.type, alg: proofOfPossession.algorithm, jwk: keys.proofJwk })
    .setIssuedAt()
    .setJti(jti)
    .sign(keys.proof.privateKey);
  return { jwt, jti };
}
