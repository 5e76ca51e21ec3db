/**
 * The plaintext of an encrypted record: its sensitive fields as one JSON object (schema order, strings
 * only). One message per record means one data-key unwrap per record read (see README for figures).
 */
import { isSensitiveField, type SensitiveFields, sensitiveFields } from "@veil/core";
import { CiphertextError, CryptoConfigError, safeFieldName } from "./errors.ts";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Serialises the sensitive fields of one record. Throws `CryptoConfigError` on a non-sensitive key. */
export function encodeSensitiveFields(fields: SensitiveFields): Uint8Array {
  if (fields === null || typeof fields !== "object") throw new CryptoConfigError("fields must be an object");
  for (const [key, value] of Object.entries(fields)) {
    if (!isSensitiveField(key)) {
      throw new CryptoConfigError(
        `field ${safeFieldName(key)} is not a sensitive field of the classification`,
      );
    }
    if (value !== undefined && typeof value !== "string") {
      throw new CryptoConfigError(`field ${key} must be a string`);
    }
  }
  const ordered: Record<string, string> = {};
  for (const name of sensitiveFields) {
    const value = fields[name];
    if (value !== undefined) ordered[name] = value;
  }
  return utf8.encode(JSON.stringify(ordered));
}

/**
 * Parses what `encodeSensitiveFields` wrote. The bytes were authenticated, so a failure here means a
 * writer bug or a schema change; it is reported without quoting the plaintext.
 */
export function decodeSensitiveFields(bytes: Uint8Array): SensitiveFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    throw new CiphertextError("badPayload");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new CiphertextError("badPayload");
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!isSensitiveField(key) || typeof value !== "string") throw new CiphertextError("badPayload");
    out[key] = value;
  }
  return out as SensitiveFields;
}
