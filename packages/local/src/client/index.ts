/**
 * The Node API client: session keys, DPoP proofs and sealed-answer opening, as the browser does them.
 */
export {
  type ApiClient,
  type ApiClientOptions,
  type ApiRequestInit,
  createApiClient,
  type ProofChoice,
  type RawAnswer,
  rawAnswer,
} from "./client.ts";
export { SealedAnswerError } from "./errors.ts";
export {
  createSessionKeys,
  type ExportedSessionKeys,
  exportSessionKeys,
  importSessionKeys,
  type SessionKeyOptions,
  type SessionKeys,
  sealPrivateKeyObject,
} from "./keys.ts";
export { answerKeyring, isSealed, openAnswer, type SealedBody } from "./open.ts";
export { accessTokenHash, makeProof, type Proof, type ProofRequest, proofTarget } from "./proof.ts";
export { createSessionClients, type SessionClients, sessionClients, sessionOf } from "./sessions.ts";
