/**
 * Whole url-encoded bodies with CloudFront field-level encryption: decrypt (handlers) and encrypt (the
 * local CloudFront). Veil's policy on top of the SDK: which fields must arrive encrypted (the
 * classification's `fleFields` of @veil/core by default), that no other field arrives encrypted, and
 * that every field passes those checks before any private-key work.
 */
import { fleFields as coreFleFields, isFleField } from "@veil/core";
import { FleDecryptError, FleFieldNotAllowedError, FleFormatError, safeFieldName } from "../errors.ts";
import { encryptFleField, openFleMessage } from "./fle-field.ts";
import {
  assertCloudFrontShape,
  decodeFleValue,
  maxFleMessageBytes,
  maxFleValueChars,
  readMessageHeader,
} from "./fle-value.ts";
import { parseFormPairs } from "./form.ts";
import { type FleDecryptKey, type FleEncryptKey, fleDecryptManager } from "./keyrings.ts";

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
 * The message a value holds, with its header, or `undefined` when the value is clear text (or longer
 * than any FLE value can be).
 */
function encryptedMessage(value: string) {
  if (value.length > maxFleValueChars) return undefined;
  const bytes = decodeFleValue(value);
  if (!bytes || bytes.byteLength > maxFleMessageBytes) return undefined;
  const header = readMessageHeader(bytes);
  return header ? { bytes, header } : undefined;
}

interface Step {
  readonly name: string;
  readonly field: string;
  readonly clear?: string;
  readonly message?: Uint8Array;
}

/**
 * Parses a url-encoded body and decrypts its FLE fields. Returns every field as a string (FLE fields
 * decrypted). Fails closed with `FleFormatError` (malformed body, duplicate field),
 * `FleFieldNotAllowedError` (an FLE field in clear, or an encrypted field that is not declared) or
 * `FleDecryptError`. An empty FLE field stays empty: it carries nothing to protect.
 *
 * @example
 * const fields = await decryptFleForm(event.body, { privateKeyPem, providerId, keyName });
 */
export async function decryptFleForm(
  body: string | Uint8Array,
  options: DecryptFleFormOptions,
): Promise<Record<string, string>> {
  const isDeclared = declaredMatcher(options.fleFields);
  const pairs = parseFormPairs(body);
  // Every field is checked before any private-key work: a body that will be refused costs no RSA.
  const plan = pairs.map((pair): Step => {
    const field = safeFieldName(pair.name);
    if (!isDeclared(pair.name)) {
      if (encryptedMessage(pair.value)) throw new FleFieldNotAllowedError(field, "notDeclared");
      return { name: pair.name, field, clear: pair.value };
    }
    if (pair.value === "") return { name: pair.name, field, clear: "" };
    if (pair.value.length > maxFleValueChars) throw new FleFormatError("tooLarge", field);
    const message = encryptedMessage(pair.value);
    if (!message) throw new FleFieldNotAllowedError(field, "notEncrypted");
    assertCloudFrontShape(message.header, field);
    return { name: pair.name, field, message: message.bytes };
  });
  if (plan.some((step) => step.message)) fleDecryptManager(options); // a bad key fails before any work
  const values = await Promise.all(
    plan.map(async ({ field, clear, message }) => {
      if (!message) return clear ?? "";
      const plaintext = await openFleMessage(message, options, field);
      try {
        return strictUtf8.decode(plaintext);
      } catch {
        throw new FleDecryptError("notUtf8", field);
      } finally {
        plaintext.fill(0);
      }
    }),
  );
  // Object.fromEntries defines own properties, so a field named `__proto__` cannot touch a prototype.
  return Object.fromEntries(plan.map((step, i) => [step.name, values[i] as string]));
}

/**
 * Encrypts the FLE fields present in a url-encoded body as CloudFront does and returns the rewritten
 * body: other pairs byte for byte, each non-empty FLE value replaced by its percent-encoded base64
 * ciphertext. For the local CloudFront; its output decrypts with `decryptFleForm`.
 *
 * @example
 * const forwarded = await encryptFleForm(body, { publicKeyPem, providerId, keyName });
 */
export async function encryptFleForm(
  body: string | Uint8Array,
  options: EncryptFleFormOptions,
): Promise<string> {
  const isDeclared = declaredMatcher(options.fleFields);
  const segments = parseFormPairs(body).map(async (pair) => {
    if (!isDeclared(pair.name) || pair.value === "") return pair.raw;
    return `${pair.rawName}=${encodeURIComponent(await encryptFleField(pair.value, options))}`;
  });
  return (await Promise.all(segments)).join("&");
}
