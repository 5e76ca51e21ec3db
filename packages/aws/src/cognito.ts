/**
 * Cognito user-pool operations a signed-in user makes for themself, authorised by their own access
 * token (no IAM right, no SigV4): today only `DeleteUser`, which deletes the caller's user. The calls
 * go through `json-client.ts` (keep-alive, deadline, retries, typed errors); the token never appears
 * in an error.
 */
import { AwsServiceError } from "./errors.ts";
import { type AwsClientOptions, createJsonClient } from "./json-client.ts";

/** The Cognito calls Veil makes. */
export interface CognitoUserClient {
  /**
   * Deletes the user the access token belongs to. Resolves `"deleted"`, or `"absent"` when Cognito says
   * the user no longer exists (a retry after a deletion that went through): deleting is idempotent.
   * Any other refusal (an expired or revoked token, throttling after the retries) rejects with
   * `AwsServiceError`.
   */
  deleteUser(input: { readonly AccessToken: string }): Promise<"deleted" | "absent">;
}

/** Options of {@link createCognitoUserClient}: see `AwsClientOptions` (credentials are not used). */
export interface CognitoUserClientOptions
  extends Omit<AwsClientOptions, "credentials" | "minCredentialValidityMs"> {}

/** Cognito user pools as `json-client.ts` calls them: the user's own operations are not SigV4-signed. */
export const cognitoIdpService = {
  signingName: "cognito-idp",
  endpointPrefix: "cognito-idp",
  targetPrefix: "AWSCognitoIdentityProviderService",
  endpointEnvId: "COGNITO_IDENTITY_PROVIDER",
  unsigned: true,
} as const;

/**
 * Creates the client.
 *
 * @example
 * const cognito = createCognitoUserClient({ region: "eu-central-2" });
 * await cognito.deleteUser({ AccessToken: token }); // "deleted"
 */
export function createCognitoUserClient(options: CognitoUserClientOptions = {}): CognitoUserClient {
  const client = createJsonClient(cognitoIdpService, options);
  return {
    async deleteUser({ AccessToken }) {
      try {
        await client.call("DeleteUser", { AccessToken });
        return "deleted";
      } catch (err) {
        if (err instanceof AwsServiceError && err.name === "UserNotFoundException") return "absent";
        throw err;
      }
    },
  };
}
