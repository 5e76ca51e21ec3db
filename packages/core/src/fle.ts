import { sensitiveFields } from "./classification.ts";
import { ClassificationError } from "./errors.ts";

/** CloudFront's limits for field-level encryption (developer guide, "Field-level encryption"). */
export const fleLimits = {
  maxFields: 10,
  maxFieldBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxPatternLength: 128,
} as const;

const patternChars = /^[A-Za-z0-9[\]._-]+\*?$/;

/**
 * Checks a list of FLE field patterns against CloudFront's rules: at most 10, allowed characters,
 * at most 128 characters, no pattern overlapping another. Throws `ClassificationError` otherwise.
 */
export function assertValidFlePatterns(patterns: readonly string[]): void {
  if (patterns.length === 0) throw new ClassificationError("FLE needs at least one field");
  if (patterns.length > fleLimits.maxFields) {
    throw new ClassificationError(`FLE allows at most ${fleLimits.maxFields} fields, got ${patterns.length}`);
  }
  for (const p of patterns) {
    if (p.length > fleLimits.maxPatternLength || !patternChars.test(p)) {
      throw new ClassificationError(`invalid FLE field pattern: ${p}`);
    }
  }
  for (const a of patterns) {
    for (const b of patterns) {
      if (a === b) continue;
      const prefix = a.endsWith("*") ? a.slice(0, -1) : undefined;
      if (prefix !== undefined && b.replace(/\*$/, "").startsWith(prefix)) {
        throw new ClassificationError(`FLE field patterns overlap: ${a} and ${b}`);
      }
    }
  }
  if (new Set(patterns).size !== patterns.length)
    throw new ClassificationError("duplicate FLE field pattern");
}

/** The FLE field list CloudFront encrypts: exactly the sensitive fields of the classification. */
export const fleFields: readonly string[] = (() => {
  const list = [...sensitiveFields];
  assertValidFlePatterns(list);
  return Object.freeze(list);
})();

/** True when a form field is one CloudFront encrypts. */
export function isFleField(name: string): boolean {
  return fleFields.includes(name);
}
