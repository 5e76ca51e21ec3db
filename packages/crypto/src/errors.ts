/**
 * Typed errors of the crypto package. Every message names a rule, a field or a context key — never a
 * value, a key or a ciphertext byte — because errors end up in logs and HTTP responses. Underlying SDK
 * errors are deliberately not attached as `cause`: some (JSON parsing, SDK responses) quote their input.
 */

/** Base class: `code` is stable for programs, `status` is the HTTP status a handler should answer. */
export abstract class CryptoError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** Options or a context given to this package break a rule; a programming error. */
export class CryptoConfigError extends CryptoError {
  override readonly name = "CryptoConfigError";
  readonly code = "CRYPTO_CONFIG";
  readonly status = 500;
}

/** KMS could not be reached or refused to serve (network, throttling, access denied, disabled key). */
export class KmsUnavailableError extends CryptoError {
  override readonly name = "KmsUnavailableError";
  readonly code = "KMS_UNAVAILABLE";
  readonly status = 503;
  /** The KMS/SDK error name (e.g. `ThrottlingException`), safe to log. */
  readonly kmsErrorName: string;
  constructor(operation: string, kmsErrorName: string) {
    super(`KMS ${operation} failed (${kmsErrorName})`);
    this.kmsErrorName = kmsErrorName;
  }
}

/** Why an envelope ciphertext was refused. */
export type CiphertextProblem = "malformed" | "tampered" | "wrongKey" | "unsupportedSuite" | "badPayload";

/** An envelope ciphertext is malformed, truncated, tampered with or not ours. */
export class CiphertextError extends CryptoError {
  override readonly name = "CiphertextError";
  readonly code = "CIPHERTEXT_INVALID";
  readonly status = 500;
  constructor(readonly reason: CiphertextProblem) {
    super(`ciphertext refused (${reason})`);
  }
}

/** Encryption failed for a reason other than KMS (should not happen; kept typed to fail closed). */
export class EncryptError extends CryptoError {
  override readonly name = "EncryptError";
  readonly code = "ENCRYPT_FAILED";
  readonly status = 500;
}

/**
 * A ciphertext is bound to another encryption context than the one expected: copied from another
 * record, owner, column or stage. `keys` names the context keys that differ (never their values).
 */
export class ContextMismatchError extends CryptoError {
  override readonly name = "ContextMismatchError";
  readonly code = "CONTEXT_MISMATCH";
  readonly status = 500;
  constructor(readonly keys: readonly string[]) {
    super(`encryption context mismatch on: ${keys.join(", ")}`);
  }
}

/** Why a field-level-encrypted form body was refused. */
export type FleFormatProblem =
  | "tooLarge"
  | "tooManyFields"
  | "notUtf8"
  | "badPercentEncoding"
  | "emptyName"
  | "duplicateField"
  | "badBase64"
  | "notFleMessage";

/** A url-encoded body (or one FLE value) is malformed. Maps to HTTP 400. */
export class FleFormatError extends CryptoError {
  override readonly name = "FleFormatError";
  readonly code = "FLE_FORMAT";
  readonly status = 400;
  constructor(
    readonly reason: FleFormatProblem,
    readonly field?: string,
  ) {
    super(field === undefined ? `malformed form body (${reason})` : `malformed field ${field} (${reason})`);
  }
}

/**
 * A field broke the FLE declaration: `notDeclared` — it arrived encrypted but is not an FLE field;
 * `notEncrypted` — it is an FLE field but arrived in clear (the edge did not encrypt it). Fail closed.
 */
export class FleFieldNotAllowedError extends CryptoError {
  override readonly name = "FleFieldNotAllowedError";
  readonly code = "FLE_FIELD_NOT_ALLOWED";
  readonly status = 400;
  constructor(
    readonly field: string,
    readonly reason: "notDeclared" | "notEncrypted",
  ) {
    super(
      reason === "notDeclared"
        ? `field ${field} arrived encrypted but is not an FLE field`
        : `FLE field ${field} arrived in clear`,
    );
  }
}

/** An FLE value could not be decrypted (wrong key, wrong provider/key name, tampered, unsupported suite). */
export class FleDecryptError extends CryptoError {
  override readonly name = "FleDecryptError";
  readonly code = "FLE_DECRYPT";
  readonly status = 400;
  constructor(
    readonly reason: "undecryptable" | "unsupportedSuite" | "notUtf8",
    readonly field?: string,
  ) {
    super(field === undefined ? `FLE value refused (${reason})` : `FLE field ${field} refused (${reason})`);
  }
}

/** Shortens an attacker-supplied field name before it goes into a message. */
export function safeFieldName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  const clean = name.replace(/[\u0000-\u001F\u007F]/g, "?");
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

/** Why a sealing key (the browser's public RSA-OAEP key, a JWK) was refused. */
export type SealKeyProblem = "notAnObject" | "notRsaOaep256" | "badModulus" | "badExponent" | "privateKey";

/**
 * The browser's sealing key breaks the contract (not an RSA-OAEP-256 public key of the required size).
 * Maps to HTTP 400; a handler that reads the key from a proof answers 401 instead.
 */
export class SealKeyError extends CryptoError {
  override readonly name = "SealKeyError";
  readonly code = "SEAL_KEY";
  readonly status = 400;
  constructor(readonly reason: SealKeyProblem) {
    super(`sealing key refused (${reason})`);
  }
}
