/** Errors of the Node API client; messages name what failed, never a value of the answer. */

/** An answer that should be sealed was not, or its seal does not belong to the request it answers. */
export class SealedAnswerError extends Error {
  override readonly name = "SealedAnswerError";
  constructor(
    readonly reason: "unsealed" | "undecryptable" | "wrongContext" | "wrongSuite" | "missingType",
    options?: ErrorOptions,
  ) {
    super(`sealed answer refused: ${reason}`, options);
  }
}
