/**
 * The errors a handler answers with, and the one mapper from anything thrown to them. `message` is
 * generic and safe to show; `details` may name fields (never values). Anything untyped maps to a 500
 * without details.
 */
import { ValidationError } from "@veil/core";
import { CryptoError } from "@veil/crypto";
import { DbError, IdempotencyInProgressError, NotFoundError } from "@veil/db";
import { ObjectNotFoundError, StorageError } from "@veil/storage";

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

/** A stored image failed its integrity check (tampered, truncated, or not ours). */
export const imageIntegrityError = (): HttpError =>
  new HttpError(
    502,
    "ImageIntegrityError",
    "The stored image failed its integrity check and was not sent. It may have been altered; an operator can restore the last good version.",
  );

/** How a function reads the errors only its domain gives meaning to. */
export interface ErrorMapping {
  /**
   * What a non-retryable `CryptoError` means. Default: the crypto error's own status (400 for an
   * unreadable form, else 500). The image functions decrypt nothing but stored images, so for them
   * every such failure is `imageIntegrityError`.
   */
  readonly cryptoFailure?: (err: CryptoError) => HttpError;
}

const unavailable = () =>
  new HttpError(503, "Unavailable", "A dependency is unavailable; try again shortly", undefined, 2);
const internal = () => new HttpError(500, "InternalError", "Something went wrong on our side");

/** The HTTP error of each status a typed `DbError` or `CryptoError` may carry. */
const byStatus: Readonly<Record<number, () => HttpError>> = {
  400: () => new HttpError(400, "BadRequest", "The request could not be read"),
  409: () => new HttpError(409, "Conflict", "The request conflicts with existing data"),
  412: () =>
    new HttpError(412, "PreconditionFailed", "The record was changed meanwhile; reload it and try again"),
  422: () =>
    new HttpError(422, "IdempotencyKeyReused", "This Idempotency-Key was used for a different request"),
  503: unavailable,
};

/**
 * Turns anything thrown into a safe HTTP error: typed errors keep their status and a value-free
 * message (503s ask the client to retry after 2 s), the rest is a 500. Never copies a thrown message.
 *
 * @example
 * createApiHandler({ routes, deps, toHttpError, logger });
 * errorResponse(toHttpError(err), requestId); // { error, message, requestId, details? }
 */
export function toHttpError(err: unknown, mapping: ErrorMapping = {}): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ValidationError) {
    return new HttpError(
      400,
      "ValidationError",
      "Some fields are invalid",
      err.issues.map(({ field, code, message }) => ({ field, code, message })),
    );
  }
  if (err instanceof NotFoundError) {
    return new HttpError(404, "NotFound", err.entity === "image" ? "No such image" : "No such record");
  }
  if (err instanceof IdempotencyInProgressError) {
    return new HttpError(
      409,
      "IdempotencyKeyInUse",
      "A request with this Idempotency-Key is still in progress; try again shortly",
      undefined,
      1,
    );
  }
  if (err instanceof CryptoError) {
    if (err.status === 503) return unavailable();
    if (mapping.cryptoFailure) return mapping.cryptoFailure(err);
    return (byStatus[err.status] ?? internal)();
  }
  if (err instanceof DbError) return (byStatus[err.status] ?? internal)();
  if (err instanceof ObjectNotFoundError) {
    return new HttpError(
      502,
      "ImageMissing",
      "The stored image is missing. An operator can restore it from a previous version.",
    );
  }
  if (err instanceof StorageError && err.status === 503) return unavailable();
  return internal();
}

/** The mapper of the image functions: a failed decryption is a stored image that failed its check. */
export const toImageHttpError = (err: unknown): HttpError =>
  toHttpError(err, { cryptoFailure: imageIntegrityError });
