/**
 * Shapes of identifiers that are personal data wherever they appear. Used by validation (anchored)
 * and by log redaction (unanchored, to catch values under keys the classification does not know).
 */
export const piiShapes = {
  email: String.raw`[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`,
  phone: String.raw`\+?\d[\d ()-]{6,18}\d`,
  // Letter-prefixed ("CH-756.1234.5678.97", "AB123456C") or dotted digit groups ("756.1234.5678.97").
  insuranceNumber: String.raw`[A-Z]{1,4}[- ]?\d{3,}(?:[-. /]?[A-Z0-9]{1,8}){1,4}|(?<![\w-]|\d[./])\d{3,}(?:[./]\d{2,}){2,4}(?![\w-]|[./]\d)`,
  date: String.raw`\d{4}-\d{2}-\d{2}`,
} as const;

/** Anchored form of a shape, for validating a whole value. */
export function anchored(shape: string): RegExp {
  return new RegExp(`^(?:${shape})$`);
}

/** Global, unanchored matcher of every PII shape, for scrubbing free text. */
export function piiScrubber(): RegExp {
  return new RegExp(
    [piiShapes.email, piiShapes.insuranceNumber, String.raw`(?<![\w-])${piiShapes.phone}(?![\w-])`]
      .map((s) => `(?:${s})`)
      .join("|"),
    "g",
  );
}

/**
 * The one spelling of a record or image id: a lower-case UUID, as the API hands it out and PostgreSQL
 * prints it. Not a PII shape: ids are no personal data.
 */
export const resourceIdShape = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
