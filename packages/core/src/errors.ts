/**
 * Typed errors of the core package. Messages name fields and rules, never values: an error may be
 * logged or returned to a client, and a value may be sensitive.
 */

/** One problem with one input field. */
export interface FieldIssue {
  readonly field: string;
  readonly code: "required" | "tooLong" | "invalid" | "unknown" | "duplicate";
  readonly message: string;
}

/** Input failed validation; maps to HTTP 400 with the list of issues. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  readonly status = 400;
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`invalid input: ${issues.map((i) => `${i.field} (${i.code})`).join(", ")}`);
  }
}

/** The classification itself breaks a rule (e.g. too many FLE fields); a programming error. */
export class ClassificationError extends Error {
  override readonly name = "ClassificationError";
}
