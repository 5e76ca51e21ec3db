/**
 * Typed errors of the storage package. Messages name operations, rules and reason codes — never an
 * object key (keys carry owner ids), a body byte, a key or a ciphertext, because errors end up in logs
 * and HTTP responses. SDK errors are not kept as `cause`: some quote request details.
 */
import type { ImageRejectReason } from "@veil/core";

/** Base class: `code` is stable for programs, `status` is the HTTP status a handler should answer. */
export abstract class StorageError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
}

/** Options given to this package break a rule; a programming error. */
export class StorageConfigError extends StorageError {
  override readonly name = "StorageConfigError";
  readonly code = "STORAGE_CONFIG";
  readonly status = 500;
}

/** The object (or the object version) does not exist. */
export class ObjectNotFoundError extends StorageError {
  override readonly name = "ObjectNotFoundError";
  readonly code = "OBJECT_NOT_FOUND";
  readonly status = 404;
  constructor(operation: string) {
    super(`${operation}: no such object or version`);
  }
}

/** S3 could not be reached or refused to serve (network, throttling, 5xx, access denied). */
export class StorageUnavailableError extends StorageError {
  override readonly name = "StorageUnavailableError";
  readonly code = "STORAGE_UNAVAILABLE";
  readonly status = 503;
  /** The S3/SDK error name (e.g. `SlowDown`), safe to log. */
  readonly s3ErrorName: string;
  constructor(operation: string, s3ErrorName: string) {
    super(`S3 ${operation} failed (${s3ErrorName})`);
    this.s3ErrorName = s3ErrorName;
  }
}

/** A version cannot be restored: none to restore, or the one asked for is a delete marker. */
export class RestoreError extends StorageError {
  override readonly name = "RestoreError";
  readonly code = "RESTORE_IMPOSSIBLE";
  readonly status = 409;
}

/**
 * An upload was refused by the ingest: the owner sees `reason`. Thrown by the upload decryption and the
 * image sanitizers; never carries a byte of the upload.
 */
export class ImageRejectedError extends StorageError {
  override readonly name = "ImageRejectedError";
  readonly code = "IMAGE_REJECTED";
  readonly status = 422;
  constructor(
    readonly reason: ImageRejectReason,
    /** A short, value-free detail for logs, e.g. `png: bad CRC`. */
    readonly detail?: string,
  ) {
    super(detail ? `image rejected (${reason}: ${detail})` : `image rejected (${reason})`);
  }
}
