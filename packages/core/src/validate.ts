import {
  type Category,
  categories,
  type FieldKind,
  recordFields,
  type SensitiveFields,
  type WritableFieldName,
  writableFields,
} from "./classification.ts";
import { type FieldIssue, ValidationError } from "./errors.ts";
import { anchored, piiShapes, resourceIdShape } from "./patterns.ts";

/** A validated create/update: the category plus the sensitive fields that were given. */
export type RecordInput = { category: Category } & SensitiveFields;

const emailRe = anchored(piiShapes.email);
const phoneRe = anchored(piiShapes.phone);
const insuranceRe = /^[A-Za-z0-9][A-Za-z0-9 ./-]{3,31}$/;
const dateRe = anchored(piiShapes.date);
// Control characters other than tab/newline are never valid in a field (they hide content in logs/UI).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const controlRe = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

function isRealDate(value: string): boolean {
  if (!dateRe.test(value)) return false;
  const d = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) return false;
  return d.getUTCFullYear() >= 1900 && d.getTime() <= Date.now();
}

const kindChecks: Record<FieldKind, (v: string) => string | undefined> = {
  name: (v) => (/\p{L}/u.test(v) && !/\n/.test(v) ? undefined : "must be a name"),
  date: (v) => (isRealDate(v) ? undefined : "must be a date as YYYY-MM-DD, not in the future"),
  insuranceNumber: (v) => (insuranceRe.test(v) ? undefined : "must be 4-32 letters, digits, spaces, . / -"),
  email: (v) => (emailRe.test(v) ? undefined : "must be an e-mail address"),
  phone: (v) =>
    phoneRe.test(v) ? undefined : "must be a phone number, digits with optional + ( ) - and spaces",
  text: () => undefined,
  category: (v) =>
    (categories as readonly string[]).includes(v) ? undefined : `must be one of ${categories.join(", ")}`,
  system: () => "is set by the server",
};

/**
 * Validates client input for a record (create or full update). `input` maps field names to raw
 * strings (already FLE-decrypted); empty strings mean "not given". Returns the typed input or throws a
 * `ValidationError` whose issues name each bad field — never its value.
 */
export function validateRecordInput(input: Readonly<Record<string, string | undefined>>): RecordInput {
  const issues: FieldIssue[] = [];
  const out: Record<string, string> = {};
  for (const key of Object.keys(input)) {
    if (!(writableFields as readonly string[]).includes(key)) {
      issues.push({ field: key.slice(0, 64), code: "unknown", message: "is not a field of a record" });
    }
  }
  for (const name of writableFields) {
    const spec = recordFields[name];
    const raw = input[name];
    const value = raw?.trim() ?? "";
    if (value === "") {
      if (spec.required) issues.push({ field: name, code: "required", message: `${spec.label} is required` });
      continue;
    }
    if (value.length > spec.maxLength) {
      issues.push({
        field: name,
        code: "tooLong",
        message: `${spec.label} must be at most ${spec.maxLength} characters`,
      });
      continue;
    }
    const problem = controlRe.test(value) ? "contains control characters" : kindChecks[spec.kind](value);
    if (problem) {
      issues.push({ field: name, code: "invalid", message: `${spec.label} ${problem}` });
      continue;
    }
    out[name] = value;
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return out as RecordInput;
}

const resourceIdRe = anchored(resourceIdShape);

/**
 * True when `value` is a record or image id in its one canonical spelling: a lower-case UUID. Every
 * route answers 404 for any other spelling of the same UUID (upper or mixed case, braces, `urn:uuid:`,
 * no hyphens) before anything else happens, so an encryption context, a storage key or an audit entry
 * is only ever built from the canonical id. A path is an exact name, as URI paths are case-sensitive.
 *
 * @example
 * isCanonicalId("0b9d2c9e-8a4f-4a57-9a3c-3f1e2d4c5b6a"); // true
 * isCanonicalId("0B9D2C9E-8A4F-4A57-9A3C-3F1E2D4C5B6A"); // false: answered 404
 */
export function isCanonicalId(value: unknown): value is string {
  return typeof value === "string" && resourceIdRe.test(value);
}

/** Splits validated input into its sensitive part (to be envelope-encrypted) and its metadata. */
export function splitSensitive(input: RecordInput): { sensitive: SensitiveFields; category: Category } {
  const { category, ...sensitive } = input;
  return { sensitive, category };
}

export type { WritableFieldName };
