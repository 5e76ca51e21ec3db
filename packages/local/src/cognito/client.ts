import { CognitoCallError } from "./errors.ts";

/** The three tokens of a signed-in user. */
export interface CognitoTokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

/** Credentials of a test user. The pool signs users in by e-mail address: give `email` or `username`. */
export type CognitoUser = { readonly password: string } & (
  | { readonly email: string }
  | { readonly username: string }
);

const nameOf = (user: CognitoUser) => ("email" in user ? user.email : user.username);

/** One call of the Cognito user-pool JSON API, over plain HTTP (no SDK needed). */
export async function callCognito<T>(endpoint: string, operation: string, input: object): Promise<T> {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json().catch(() => ({}))) as { __type?: string };
  if (!res.ok) throw new CognitoCallError(operation, body.__type ?? "UnknownError", res.status);
  return body as T;
}

interface AuthResult {
  AuthenticationResult?: { IdToken?: string; AccessToken?: string; RefreshToken?: string };
}

/** Signs in with `USER_PASSWORD_AUTH` (SRP is not available locally). */
export async function signIn(endpoint: string, clientId: string, user: CognitoUser): Promise<CognitoTokens> {
  const out = await callCognito<AuthResult>(endpoint, "InitiateAuth", {
    AuthFlow: "USER_PASSWORD_AUTH",
    ClientId: clientId,
    AuthParameters: { USERNAME: nameOf(user), PASSWORD: user.password },
  });
  const r = out.AuthenticationResult;
  if (!r?.IdToken || !r.AccessToken || !r.RefreshToken) {
    throw new CognitoCallError("InitiateAuth", "ChallengeNotSupported", 200);
  }
  return { idToken: r.IdToken, accessToken: r.AccessToken, refreshToken: r.RefreshToken };
}

/**
 * Signs a user up (confirmed at once by the local Cognito) and signs them in. A user that already
 * exists is just signed in, so dev seeding can call this on every start.
 */
export async function signUpAndSignIn(
  endpoint: string,
  clientId: string,
  user: CognitoUser,
): Promise<CognitoTokens> {
  try {
    await callCognito(endpoint, "SignUp", {
      ClientId: clientId,
      Username: nameOf(user),
      Password: user.password,
      UserAttributes: [{ Name: "email", Value: nameOf(user) }],
    });
  } catch (err) {
    if (!(err instanceof CognitoCallError && err.type === "UsernameExistsException")) throw err;
  }
  return signIn(endpoint, clientId, user);
}
