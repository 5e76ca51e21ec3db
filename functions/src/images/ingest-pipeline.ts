/**
 * One upload, from the inbox to a stored image, in constant memory:
 *   inbox GET → FLE decrypt (RSA private key, suite 0x0178, context = this image id, ≤ declared size)
 *   → type check by magic bytes + metadata stripping → envelope encryption (KMS; owner, record, image)
 *   → multipart PUT to the images bucket → row `ready` + audit, in one transaction → inbox version deleted.
 *
 * Failure rules: nothing half-done survives. A refused upload (`ImageRejectedError`) marks the row
 * `rejected` with its reason and deletes the upload; the images-bucket write is a multipart upload that
 * is aborted, so no object appears. A transient failure (S3, KMS, database) deletes any object version
 * it wrote and is rethrown, keeping the upload for the retry (S3 → Lambda async invocations retry).
 */
import { PassThrough, pipeline, type Readable } from "node:stream";
import { type ImageRejectReason, imageLimits } from "@veil/core";
import type { EnvelopeCrypto } from "@veil/crypto";
import { audit, ConflictError, images, NotFoundError, withTransaction } from "@veil/db";
import {
  ImageRejectedError,
  imageEnvelopeContext,
  imageKey,
  type ObjectStore,
  openUpload,
  parseInboxKey,
  sanitizeImage,
  type UploadDecryptKey,
  uploadCiphertextLength,
  uploadEncryptionContext,
} from "@veil/storage";
import type { Pool } from "./deps.ts";
import { pendingGraceMs } from "./view.ts";

/** What the ingest needs. */
export interface IngestDeps {
  readonly pool: Pool;
  readonly store: ObjectStore;
  readonly envelope: EnvelopeCrypto;
  readonly keys: readonly UploadDecryptKey[];
  /** RSA modulus bytes of the upload key, to bound the encrypted size before reading. */
  readonly modulusBytes: number;
  readonly inboxBucket: string;
  readonly imagesBucket: string;
  readonly now?: () => number;
}

/** The object an S3 ObjectCreated notification names (key already URL-decoded). */
export interface InboxObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly versionId?: string;
  readonly eTag?: string;
  readonly eventTime?: string;
}

export type IngestOutcome =
  | {
      readonly outcome: "ready";
      readonly imageId: string;
      readonly bytes: number;
      readonly removed: Readonly<Record<string, number>>;
    }
  | {
      readonly outcome: "rejected";
      readonly imageId: string;
      readonly reason: ImageRejectReason;
      readonly detail?: string;
    }
  | { readonly outcome: "ignored"; readonly imageId?: string; readonly why: string };

/** Runs the ingest for one inbox object. Throws only for transient failures (retry). */
export async function ingestUpload(deps: IngestDeps, object: InboxObject): Promise<IngestOutcome> {
  const inbox = { bucket: object.bucket, key: object.key };
  const dropUpload = () => deps.store.delete(inbox, object.versionId);
  const ids = object.bucket === deps.inboxBucket ? parseInboxKey(object.key) : undefined;
  if (!ids) {
    await dropUpload();
    return { outcome: "ignored", why: "not an upload key" };
  }
  const { imageId } = ids;
  const row = await images.getById(deps.pool, imageId);
  if (!row || row.ownerId !== ids.ownerId || row.recordId !== ids.recordId) {
    await dropUpload();
    return { outcome: "ignored", imageId, why: "no such pending image" };
  }
  if (row.status !== "pending") {
    // A repeated event, or a second PUT to the same URL: the image is decided; drop the upload.
    await dropUpload();
    return { outcome: "ignored", imageId, why: `image is ${row.status}` };
  }

  const reject = async (reason: ImageRejectReason, detail?: string): Promise<IngestOutcome> => {
    await images.markRejected(deps.pool, { id: imageId, ownerId: ids.ownerId, reason });
    await dropUpload();
    return { outcome: "rejected", imageId, reason, ...(detail ? { detail } : {}) };
  };

  const now = deps.now?.() ?? Date.now();
  const createdAt = object.eventTime ? Date.parse(object.eventTime) : now;
  if (Math.max(createdAt, 0) > row.uploadExpiresAt.getTime() + pendingGraceMs) return reject("expired");
  const context = uploadEncryptionContext(imageId);
  const largest = Math.max(
    ...deps.keys.map((k) =>
      uploadCiphertextLength(Math.min(row.declaredSize, imageLimits.maxBytes), {
        providerId: k.providerId,
        keyName: k.keyName,
        modulusBytes: deps.modulusBytes,
        context,
      }),
    ),
  );
  // Too big to be what was announced: refused without reading a byte.
  if (object.size > largest) return reject("tooLarge", "upload over announced size");

  const target = { bucket: deps.imagesBucket, key: imageKey(ids) };
  // The first refusal wins: later stages only see their input torn down.
  let refusal: ImageRejectedError | undefined;
  const note = (err: unknown) => {
    if (err instanceof ImageRejectedError) refusal ??= err;
  };
  let stored: Awaited<ReturnType<ObjectStore["upload"]>>;
  const sanitizer = sanitizeImage({ declaredType: row.contentType });
  try {
    const opened = await deps.store.open(inbox, object.versionId ? { versionId: object.versionId } : {});
    const plaintext = openUpload(opened.body, {
      keys: deps.keys,
      context,
      maxPlaintextBytes: Math.min(row.declaredSize, imageLimits.maxBytes),
    });
    const clean: Readable = pipeline(plaintext, sanitizer, new PassThrough(), (err) => note(err));
    plaintext.on("error", note);
    sanitizer.on("error", note);
    stored = await deps.store.upload(target, deps.envelope.encryptStream(clean, imageEnvelopeContext(ids)), {
      contentType: "application/octet-stream",
    });
  } catch (err) {
    note(err);
    if (refusal) return reject(refusal.reason, refusal.detail);
    throw err;
  }
  if (!sanitizer.detectedType) {
    await deps.store.delete(target, stored.versionId);
    return reject("corrupt", "empty");
  }

  try {
    await withTransaction(deps.pool, async (tx) => {
      await images.markReady(tx, {
        id: imageId,
        ownerId: ids.ownerId,
        contentType: sanitizer.detectedType as NonNullable<typeof sanitizer.detectedType>,
        size: sanitizer.bytesOut,
        objectVersion: stored.versionId ?? null,
      });
      await audit.append(tx, {
        ownerId: ids.ownerId,
        actor: ids.ownerId,
        action: "image.upload",
        recordId: ids.recordId,
      });
    });
  } catch (err) {
    // No row points at the object: remove the version just written.
    await deps.store.delete(target, stored.versionId);
    if (err instanceof ConflictError || err instanceof NotFoundError) {
      await dropUpload();
      return { outcome: "ignored", imageId, why: "image decided or deleted meanwhile" };
    }
    throw err;
  }
  await dropUpload();
  return { outcome: "ready", imageId, bytes: sanitizer.bytesOut, removed: sanitizer.removed };
}
