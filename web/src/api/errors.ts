/**
 * Typed errors of the web app's API layer. Like the server's, they carry field names and request ids,
 * never a record value.
 */

/** One field problem as the API reports it in a 400 `ValidationError`. */
export interface FieldProblem {
  readonly field: string;
  readonly code: string;
  readonly message: string;
}

/** The API answered with an error status. */
export class ApiError extends Error {
  override readonly name: string = "ApiError";
  constructor(
    readonly status: number,
    /** The API's stable error code (`ValidationError`, `NotFound`, …), or the edge's. */
    readonly code: string,
    message: string,
    /** Quote it to support: it finds the request in the logs. */
    readonly requestId: string | undefined,
    readonly details: readonly FieldProblem[] = [],
  ) {
    super(message);
  }

  /** Something failed on the server side, not the caller's input. */
  get isServerError(): boolean {
    return this.status >= 500;
  }
}

/** The request never got an answer (offline, DNS, connection reset). */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
  constructor() {
    super("Could not reach Veil. Check your connection and try again.");
  }
}

/** The session is gone (no token, or the API said 401): the user must sign in again. */
export class SessionExpiredError extends Error {
  override readonly name: string = "SessionExpiredError";
  constructor() {
    super("Your session has ended. Please sign in again.");
  }
}

/**
 * This browser no longer holds the keys of the session (its stored keys were removed while the user
 * stayed signed in): the API refuses new ones for the same session, so the user must sign in again.
 */
export class SessionKeysLostError extends SessionExpiredError {
  override readonly name = "SessionKeysLostError";
  constructor() {
    super();
    this.message = "This browser no longer holds the keys of your session. Please sign in again.";
  }
}

/**
 * The API refused the first request(s) of a new sign-in: it bound the session to another key first.
 * A server-side race cannot cause this; a party on the path that saw the first request's token can.
 */
export class SessionNotBoundError extends SessionExpiredError {
  override readonly name = "SessionNotBoundError";
  constructor() {
    super();
    this.message =
      "This browser could not be linked to your sign-in. Please sign in again. If this keeps happening, " +
      "your connection may be intercepted — contact support.";
  }
}

/**
 * A successful answer that could not be opened: not sealed, sealed to another key, or for another
 * request. Nothing of it is shown, and the message gives nothing of it away.
 */
export class SealedAnswerError extends ApiError {
  override readonly name = "SealedAnswerError";
  constructor(requestId: string | undefined) {
    super(502, "SealedAnswerRefused", "The answer could not be verified. Please try again.", requestId);
  }
}
