/**
 * Whole url-encoded bodies with CloudFront field-level encryption: decrypt (handlers) and encrypt (the
 * local CloudFront). The FLE field list defaults to the classification's (`fleFields` of @veil/core).
 */
import { fleFields as coreFleFields, isFleField } from "@veil/core";
import { FleDecryptError, FleFieldNotAllowedError, safeFieldName } from "../errors.ts";
import { decodeEscapedBase64, decodeTolerantBase64, looksLikeEsdkMessage } from "./base64.ts";
import { decryptFleMessagesSync, encryptFleField } from "./fle-field.ts";
import { decodeFormComponent, encodeFormComponent, type FormPair, parseFormPairs } from "./form.ts";
import type { FleDecryptKey, FleEncryptKey } from "./keyrings.ts";

/** Which fields are field-level encrypted: CloudFront patterns, exact names or `prefix*`. */
export interface FleFieldOptions {
  /** Defaults to `fleFields` of @veil/core. */
  readonly fleFields?: readonly string[];
}

export type DecryptFleFormOptions = FleDecryptKey & FleFieldOptions;
export type EncryptFleFormOptions = FleEncryptKey & FleFieldOptions;

function declaredMatcher(patterns: readonly string[] | undefined): (name: string) => boolean {
  if (patterns === undefined || patterns === coreFleFields) return isFleField;
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")));
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((prefix) => name.startsWith(prefix));
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Fewest characters a value holding an Encryption SDK message can have: `looksLikeEsdkMessage` wants
 * 64 bytes, i.e. 86 base64 characters, and percent-decoding and the base64 repair only shorten text.
 */
const minMessageChars = Math.ceil((64 * 4) / 3);

/** The bytes of a value that arrived encrypted, or `undefined` when it is clear text. */
function encryptedBytes(pair: FormPair): Uint8Array | undefined {
  const bytes =
    decodeEscapedBase64(pair.rawValue) ??
    decodeTolerantBase64(decodeFormComponent(pair.rawValue, false, safeFieldName(pair.name)));
  return bytes && looksLikeEsdkMessage(bytes) ? bytes : undefined;
}

/**
 * Parses a url-encoded body and decrypts its FLE fields. Returns every field as a string (FLE fields
 * decrypted). Fails closed with `FleFormatError` (malformed body, duplicate field),
 * `FleFieldNotAllowedError` (an FLE field in clear, or an encrypted field that is not declared) or
 * `FleDecryptError`. An empty FLE field stays empty: it carries nothing to protect.
 */
export async function decryptFleForm(
  body: string | Uint8Array,
  options: DecryptFleFormOptions,
): Promise<Record<string, string>> {
  const isDeclared = declaredMatcher(options.fleFields);
  const pairs = parseFormPairs(body);
  // Every field is checked before any private-key work: a body that will be refused costs no RSA.
  const plan = pairs.map((pair): { name: string; field: string; clear?: string; message?: Uint8Array } => {
    const field = safeFieldName(pair.name);
    if (!isDeclared(pair.name)) {
      // A value shorter than the base64 of the smallest message cannot be one; skipping the attempt
      // changes no outcome (a malformed escape fails the clear decode below with the same error).
      if (pair.rawValue.length >= minMessageChars && encryptedBytes(pair)) {
        throw new FleFieldNotAllowedError(field, "notDeclared");
      }
      return { name: pair.name, field, clear: decodeFormComponent(pair.rawValue, true, field) };
    }
    if (pair.rawValue === "") return { name: pair.name, field, clear: "" };
    const message = encryptedBytes(pair);
    if (!message) throw new FleFieldNotAllowedError(field, "notEncrypted");
    return { name: pair.name, field, message };
  });
  // One batch: the work is CPU-bound, there is no I/O to overlap, and the RSA decrypts run back to back.
  const encrypted = plan.filter((step): step is typeof step & { message: Uint8Array } => !!step.message);
  const plaintexts = decryptFleMessagesSync(encrypted, options);
  const entries: Array<[string, string]> = [];
  let next = 0;
  for (const { name, field, clear, message } of plan) {
    if (!message) {
      entries.push([name, clear ?? ""]);
      continue;
    }
    const plaintext = plaintexts[next++] as Buffer;
    try {
      entries.push([name, strictUtf8.decode(plaintext)]);
    } catch {
      throw new FleDecryptError("notUtf8", field);
    }
  }
  // Object.fromEntries defines own properties, so a field named `__proto__` cannot touch a prototype.
  return Object.fromEntries(entries);
}

/**
 * Encrypts the FLE fields present in a url-encoded body as CloudFront does and returns the rewritten
 * body: other pairs byte for byte, each non-empty FLE value replaced by its percent-encoded base64
 * ciphertext. For the local CloudFront; its output decrypts with `decryptFleForm`.
 */
export async function encryptFleForm(
  body: string | Uint8Array,
  options: EncryptFleFormOptions,
): Promise<string> {
  const isDeclared = declaredMatcher(options.fleFields);
  const pairs = parseFormPairs(body);
  const segments = pairs.map(async (pair) => {
    if (!isDeclared(pair.name) || pair.rawValue === "") return pair.raw;
    const plaintext = decodeFormComponent(pair.rawValue, true, safeFieldName(pair.name));
    return `${pair.rawName}=${encodeFormComponent(await encryptFleField(plaintext, options))}`;
  });
  return (await Promise.all(segments)).join("&");
}
