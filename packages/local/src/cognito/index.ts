export { type CognitoTokens, type CognitoUser, callCognito, signIn, signUpAndSignIn } from "./client.ts";
export { CognitoCallError } from "./errors.ts";
export { type LocalCognito, type LocalCognitoOptions, startLocalCognito } from "./server.ts";
export type { Jwk, Jwks } from "./signing-key.ts";
