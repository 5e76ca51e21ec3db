import { headers } from "@veil/core";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import type { JwksCache } from "aws-jwt-verify/jwk";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { UnauthorizedError } from "./errors.ts";
import { header } from "./http.ts";

/** The signed-in user a request acts for. */
export interface Caller {
  /** Cognito `sub`: the owner id every record is scoped to. */
  readonly sub: string;
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
export type VerifyCaller = (event: APIGatewayProxyEvent) => Promise<Caller>;

/** Builds the verifier: the production `CognitoJwtVerifier`, access tokens of our app client only. */
export function createCallerVerifier(options: AuthOptions): VerifyCaller {
  const verifier = CognitoJwtVerifier.create(
    { userPoolId: options.userPoolId, tokenUse: "access", clientId: options.clientId },
    options.jwksCache ? { jwksCache: options.jwksCache } : undefined,
  );
  if (options.jwks) verifier.cacheJwks(JSON.parse(options.jwks));
  return async (event) => {
    const value = header(event, headers.identity);
    const token = value?.match(/^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/)?.[1];
    if (!token) throw new UnauthorizedError();
    try {
      const payload = await verifier.verify(token);
      return { sub: payload.sub, username: String(payload.username ?? payload.sub) };
    } catch {
      throw new UnauthorizedError();
    }
  };
}
