/**
 * Turns anything the image functions throw into a safe HTTP error: typed errors keep a status and a
 * clear, value-free message; the rest is a 500.
 */
import { CryptoError } from "@veil/crypto";
import { DbError, NotFoundError } from "@veil/db";
import { ObjectNotFoundError, StorageError } from "@veil/storage";
import { HttpError } from "../shared/errors.ts";

/** The stored object failed its integrity check (tampered, truncated, or not ours). */
export const integrityError = () =>
  new HttpError(
    502,
    "ImageIntegrityError",
    "The stored image failed its integrity check and was not sent. It may have been altered; an operator can restore the last good version.",
  );

export function toImageHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof NotFoundError) {
    return new HttpError(404, "NotFound", err.entity === "record" ? "No such record" : "No such image");
  }
  if (err instanceof ObjectNotFoundError) {
    return new HttpError(
      502,
      "ImageMissing",
      "The stored image is missing. An operator can restore it from a previous version.",
    );
  }
  if (err instanceof CryptoError) {
    if (err.status === 503) return unavailable();
    return integrityError();
  }
  if ((err instanceof DbError || err instanceof StorageError) && err.status === 503) return unavailable();
  return new HttpError(500, "InternalError", "Something went wrong on our side");
}

function unavailable(): HttpError {
  return new HttpError(503, "Unavailable", "A dependency is unavailable; try again shortly", undefined, 2);
}
