/**
 * Errors of the local KMS, shaped as KMS answers them on the wire (`{"__type","message"}` with an HTTP
 * status). Messages name keys, aliases and actions, never plaintext, key material, ciphertext or
 * encryption-context values.
 */

/** The `__type` names this server answers with; the same names as AWS KMS. */
export type KmsErrorType =
  | "AccessDeniedException"
  | "AlreadyExistsException"
  | "DisabledException"
  | "IncompleteSignatureException"
  | "IncorrectKeyException"
  | "InvalidAliasNameException"
  | "InvalidCiphertextException"
  | "InvalidKeyUsageException"
  | "InvalidMarkerException"
  | "InvalidSignatureException"
  | "KMSInternalException"
  | "KMSInvalidStateException"
  | "MalformedPolicyDocumentException"
  | "MissingAuthenticationTokenException"
  | "NotFoundException"
  | "SerializationException"
  | "ThrottlingException"
  | "UnknownOperationException"
  | "UnrecognizedClientException"
  | "UnsupportedOperationException"
  | "ValidationException";

/** A KMS API error: `type` goes to `__type`, `status` to the HTTP status line. */
export class KmsError extends Error {
  override readonly name = "KmsError";
  constructor(
    readonly type: KmsErrorType,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The key, alias or ARN names nothing in this account and region. */
export const notFound = (message: string) => new KmsError("NotFoundException", message);

/** A request field is missing or out of range. */
export const validation = (message: string) => new KmsError("ValidationException", message);

/** The ciphertext is malformed, tampered with, or bound to another encryption context. */
export const invalidCiphertext = () =>
  new KmsError(
    "InvalidCiphertextException",
    "The ciphertext is invalid or was bound to another encryption context.",
  );
