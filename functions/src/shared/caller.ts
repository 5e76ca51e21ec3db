/**
 * The caller verifier every API function builds from its links: the Cognito access token (the user
 * pool and app client links), then its DPoP proof, with seen proofs and session bindings in `db`.
 */
import type { Queryable } from "@veil/db";
import { createCallerVerifier, type VerifyCaller } from "./auth.ts";
import { createProofVerifier } from "./proof.ts";
import { linked } from "./resources.ts";

/**
 * Builds the verifier from the `UserPool` and `UserPoolClient` links (and, locally, the injected JWKS).
 *
 * @example
 * const pool = await databasePool();
 * const verifyCaller = linkedCallerVerifier(pool);
 */
export function linkedCallerVerifier(db: Queryable): VerifyCaller {
  return createCallerVerifier({
    verifyProof: createProofVerifier({ db }),
    userPoolId: linked("UserPool").id,
    clientId: linked("UserPoolClient").id,
    ...(process.env.VEIL_COGNITO_JWKS ? { jwks: process.env.VEIL_COGNITO_JWKS } : {}),
  });
}
