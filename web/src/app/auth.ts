import type { Authenticator } from "@aws-amplify/ui-react";
import { type SignInInput, type SignUpInput, signIn, signUp } from "aws-amplify/auth";
import type { ComponentProps } from "react";
import type { AuthFlow } from "../config.ts";
import { sessionKeys } from "./session.ts";

type Services = NonNullable<ComponentProps<typeof Authenticator>["services"]>;

/**
 * The Authenticator's sign-in and sign-up, with the flow from the runtime config: SRP (with MFA) in
 * AWS, plain password against the local Cognito stand-in, which has no SRP. The auto sign-in after a
 * confirmed sign-up must use the same flow. Both start a new session, for which the app makes new
 * key pairs (`sessionKeys`).
 */
export function authServices(authFlowType: AuthFlow): Services {
  const handleSignIn = (input: SignInInput) => {
    sessionKeys.signingIn();
    return signIn({ ...input, options: { ...input.options, authFlowType } });
  };
  const handleSignUp = (input: SignUpInput) => {
    sessionKeys.signingIn();
    return signUp({
      ...input,
      options: {
        ...input.options,
        userAttributes: input.options?.userAttributes ?? {},
        autoSignIn: { authFlowType },
      },
    });
  };
  // The services type overloads each function with an (unused here) context-first form.
  return {
    handleSignIn: handleSignIn as Services["handleSignIn"],
    handleSignUp: handleSignUp as Services["handleSignUp"],
  };
}
