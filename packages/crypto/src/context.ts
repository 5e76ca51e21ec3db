/**
 * The encryption context shape: the one place that decides what every ciphertext is bound to.
 *
 * Two layers:
 * - the message context `{app, stage, ownerId, recordId, purpose}` is written into every message
 *   header and authenticated by the header tag (AAD), so a ciphertext moved to another record, owner,
 *   column or stage fails to decrypt;
 * - the KMS context `{app, stage, purpose}` (a subset) is what KMS sees when it wraps or unwraps a data
 *   key. Keeping per-record values out of it is what lets one data key serve many records (see README).
 */
import { ContextMismatchError, CryptoConfigError, safeFieldName } from "./errors.ts";

/** Who and what a ciphertext belongs to, supplied by the caller on every encrypt and decrypt. */
export interface RecordContext {
  /** The owner (e.g. the Cognito `sub`) of the record. */
  readonly ownerId: string;
  /** The record (or object) id. */
  readonly recordId: string;
  /** The column or object kind the ciphertext is stored in, e.g. `record.sensitive` or `image`. */
  readonly purpose: string;
}

/** The deployment a ciphertext belongs to; fixed per `createEnvelopeCrypto`. */
export interface DeploymentContext {
  readonly app: string;
  readonly stage: string;
}

/** The complete message context, as written into the header. */
export type MessageContext = Readonly<Record<"app" | "stage" | "ownerId" | "recordId" | "purpose", string>>;

/** The keys of the message context, in a fixed order. */
export const messageContextKeys = ["app", "stage", "ownerId", "recordId", "purpose"] as const;

/** The keys KMS sees (and a key policy can condition on with `kms:EncryptionContext:<key>`). */
export const kmsContextKeys = ["app", "stage", "purpose"] as const;

/** The Encryption SDK's reserved key carrying the signing public key (signed suites only). */
export const signerKeyName = "aws-crypto-public-key";

const maxValueLength = 256;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const controlRe = /[\u0000-\u001F\u007F]/;

function checkValue(key: string, value: unknown): string {
  if (
    typeof value !== "string" ||
    value.length === 0 ||
    value.length > maxValueLength ||
    controlRe.test(value)
  ) {
    throw new CryptoConfigError(
      `encryption context ${key} must be a non-empty string of at most ${maxValueLength} printable characters`,
    );
  }
  return value;
}

/** Builds and checks the message context of one ciphertext. */
export function messageContext(deployment: DeploymentContext, ctx: RecordContext): MessageContext {
  return {
    app: checkValue("app", deployment.app),
    stage: checkValue("stage", deployment.stage),
    ownerId: checkValue("ownerId", ctx?.ownerId),
    recordId: checkValue("recordId", ctx?.recordId),
    purpose: checkValue("purpose", ctx?.purpose),
  };
}

/**
 * The part of a header context that KMS binds the data key to: the KMS keys plus, for signed suites,
 * the signer's public key (which the Encryption SDK itself puts in the context KMS sees).
 */
export function kmsContextOf(context: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of kmsContextKeys) {
    const value = context[key];
    if (value !== undefined) out[key] = value;
  }
  const signer = context[signerKeyName];
  if (signer !== undefined) out[signerKeyName] = signer;
  return out;
}

/**
 * Throws `ContextMismatchError` unless the context read from a message header is exactly `expected`
 * (plus the signer key when the suite is signed). Compares every key, reports names only.
 */
export function assertContextMatches(
  actual: Readonly<Record<string, string>>,
  expected: MessageContext,
  signed: boolean,
): void {
  const differing: string[] = [];
  for (const key of messageContextKeys) {
    if (actual[key] !== expected[key]) differing.push(key);
  }
  for (const key of Object.keys(actual)) {
    if ((messageContextKeys as readonly string[]).includes(key)) continue;
    if (key === signerKeyName && signed) continue;
    differing.push(safeFieldName(key));
  }
  if (signed && actual[signerKeyName] === undefined) differing.push(signerKeyName);
  if (differing.length > 0) throw new ContextMismatchError(differing);
}
