export type { KmsPrincipal, KmsPrincipals } from "./auth.ts";
export { KmsError, type KmsErrorType } from "./errors.ts";
export { defaultKeyPolicy, KEY_ADMIN_ACTIONS, KEY_USER_ACTIONS, keyPolicy } from "./key-policy.ts";
export {
  evaluatePolicy,
  type PolicyDecision,
  type PolicyDocument,
  type PolicyRequest,
  type PolicyStatement,
  parsePolicy,
} from "./policy.ts";
export {
  type KmsFault,
  type KmsStats,
  type LocalKms,
  type LocalKmsOptions,
  startLocalKms,
} from "./server.ts";
