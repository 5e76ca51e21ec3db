/**
 * The errors a handler answers with. `message` is generic and safe to show; `details` may name fields
 * (never values). Anything else thrown maps to a 500 without details.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The caller's identity token is missing, malformed, expired or not ours. */
export class UnauthorizedError extends HttpError {
  constructor() {
    super(401, "Unauthorized", "Sign in again: the identity token is missing or invalid");
  }
}
