import { headers } from "@veil/core";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import type { JwksCache } from "aws-jwt-verify/jwk";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { UnauthorizedError } from "./errors.ts";
import { header } from "./http.ts";
import type { ProofToken, VerifiedProof, VerifyProof } from "./proof.ts";

/** The signed-in user a request acts for, holding the key its proof was made with. */
export interface Caller extends VerifiedProof {
  /** Cognito `sub`: the owner id every record is scoped to. */
  readonly sub: string;
  readonly username: string;
}

/** A verified access token: who, and what the proof must be checked against. */
export interface VerifiedToken extends ProofToken {
  readonly username: string;
}

export interface AuthOptions {
  readonly userPoolId: string;
  readonly clientId: string;
  /**
   * JWKS to use instead of fetching it from Cognito (the local stack's Cognito serves plain http,
   * which aws-jwt-verify rightly refuses to fetch). Verification itself is unchanged.
   */
  readonly jwks?: string;
  readonly jwksCache?: JwksCache;
}

/** Verifies the Cognito access token the edge moved into the identity header. */
export type VerifyToken = (event: APIGatewayProxyEvent) => Promise<VerifiedToken>;

/** Verifies the access token and the request's proof of possession. */
export type VerifyCaller = (event: APIGatewayProxyEvent) => Promise<Caller>;

/**
 * Builds the token verifier: the production `CognitoJwtVerifier`, access tokens of our app client only,
 * and only tokens that carry `origin_jti` (Cognito adds it with token revocation on): the session a
 * proof key is bound to.
 */
export function createTokenVerifier(options: AuthOptions): VerifyToken {
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: options.userPoolId, tokenUse: "access", clientId: options.clientId },
    options.jwksCache ? { jwksCache: options.jwksCache } : undefined,
  );
  if (options.jwks) verifier.cacheJwks(JSON.parse(options.jwks));
  return async (event) => {
    const value = header(event, headers.identity);
    const token = value?.match(/^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/)?.[1];
    if (!token) throw new UnauthorizedError();
    let payload: Awaited<ReturnType<typeof verifier.verify>>;
    try {
      payload = await verifier.verify(token);
    } catch {
      throw new UnauthorizedError();
    }
    const originJti: unknown = payload.origin_jti;
    if (typeof originJti !== "string" || originJti === "") throw new UnauthorizedError();
    return { token, sub: payload.sub, username: String(payload.username ?? payload.sub), originJti };
  };
}

/** The caller verifier made of a token verifier and a proof verifier: the token first, then its proof. */
export function callerVerifier(verifyToken: VerifyToken, verifyProof: VerifyProof): VerifyCaller {
  return async (event) => {
    const token = await verifyToken(event);
    const { proof, sealKey } = await verifyProof(event, token);
    return { sub: token.sub, username: token.username, proof, sealKey };
  };
}

/**
 * Builds the caller verifier: the Cognito access token (see `createTokenVerifier`), then its DPoP proof
 * (`createProofVerifier` of ./proof.ts). A verified caller carries the proof's `jti` and key thumbprint
 * and the key its answer is sealed to.
 *
 * @example
 * const verifyCaller = createCallerVerifier({ userPoolId, clientId, verifyProof: createProofVerifier({ db: pool }) });
 * const { sub, proof, sealKey } = await verifyCaller(event);
 */
export function createCallerVerifier(
  options: AuthOptions & { readonly verifyProof: VerifyProof },
): VerifyCaller {
  return callerVerifier(createTokenVerifier(options), options.verifyProof);
}
