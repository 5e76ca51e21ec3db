import { validation } from "./errors.ts";

/** Readers of KMS JSON request fields that answer `ValidationException` the way KMS does. */

export type Input = Readonly<Record<string, unknown>>;

export function optionalString(input: Input, field: string): string | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string")
    throw validation(`1 validation error detected: Value at '${camel(field)}' must be a string`);
  return v;
}

export function requiredString(input: Input, field: string): string {
  const v = optionalString(input, field);
  if (v === undefined || v.length === 0) {
    throw validation(
      `1 validation error detected: Value null at '${camel(field)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

export function optionalInt(input: Input, field: string, min: number, max: number): number | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw validation(
      `1 validation error detected: Value at '${camel(field)}' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
  return v;
}

export function optionalBool(input: Input, field: string): boolean {
  const v = input[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean")
    throw validation(`1 validation error detected: Value at '${camel(field)}' must be a boolean`);
  return v;
}

/** A base64 blob field; `max` bytes after decoding. */
export function requiredBlob(input: Input, field: string, max: number): Buffer {
  const v = requiredString(input, field);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw validation(`Value at '${camel(field)}' is not valid base64`);
  const bytes = Buffer.from(v, "base64");
  if (bytes.length < 1 || bytes.length > max) {
    throw validation(
      `1 validation error detected: Value at '${camel(field)}' failed to satisfy constraint: Member must have length between 1 and ${max}`,
    );
  }
  return bytes;
}

/** An encryption context: a map of strings to strings. */
export function optionalContext(input: Input, field: string): Record<string, string> | undefined {
  const v = input[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw validation(`Value at '${camel(field)}' must be a map`);
  for (const value of Object.values(v)) {
    if (typeof value !== "string") throw validation(`Value at '${camel(field)}' must map strings to strings`);
  }
  return v as Record<string, string>;
}

const camel = (field: string) => field.charAt(0).toLowerCase() + field.slice(1);
