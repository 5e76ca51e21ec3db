import { headers, sensitiveFields } from "@veil/core";

/** What every redacted value is replaced with. Fixed on purpose: a hash of a birth date is reversible. */
export const REDACTED = "[REDACTED]";

/** Lower case, letters and digits only: `date_of_birth`, `Date-Of-Birth` and `dateOfBirth` all match. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/**
 * Key fragments whose values are credentials. Matched inside a normalized key, so `x-amz-security-token`,
 * `aws_secret_access_key`, `set-cookie` and `apiKeyId` are all caught.
 */
const secretFragments = [
  "authorization",
  "cookie",
  "apikey",
  normalizeKey(headers.apiKey),
  normalizeKey(headers.identity),
  "password",
  "passwd",
  "secret",
  "token",
  "privatekey",
  "credential",
  "signature",
];

/** Fragments from the classification: every sensitive field, under any spelling or prefix. */
const fieldFragments = sensitiveFields.map(normalizeKey);

const fragments = [...new Set([...fieldFragments, ...secretFragments])];
const cache = new Map<string, boolean>();

/**
 * True when a value stored under `key` must never be logged: the key names a sensitive field of the
 * classification (`sensitiveFields` from @veil/core) or a credential. Matching is by containment on the
 * normalized key, so `patientEmail` and `contact_phone` are caught; over-redaction is the safe error.
 */
export function isSensitiveKey(key: string): boolean {
  let hit = cache.get(key);
  if (hit === undefined) {
    const n = normalizeKey(key);
    hit = fragments.some((f) => n.includes(f));
    if (cache.size < 10_000) cache.set(key, hit);
  }
  return hit;
}
