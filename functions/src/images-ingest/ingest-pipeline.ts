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
import { pipeline, type Readable } from "node:stream";
import { type ImageContentType, type ImageRejectReason, imageLimits } from "@veil/core";
import type { EnvelopeCrypto } from "@veil/crypto";
import { audit, ConflictError, images, NotFoundError, withTransaction } from "@veil/db";
import {
  type ImageIds,
  ImageRejectedError,
  type ImageSanitizer,
  imageEnvelopeContext,
  imageKey,
  type ObjectStore,
  openUpload,
  parseInboxKey,
  type StoredObject,
  sanitizeImage,
  type UploadDecryptKey,
  uploadCiphertextLengths,
  uploadEncryptionContext,
} from "@veil/storage";
import { pendingGraceMs } from "../images/view.ts";
import type { Pool } from "../shared/database.ts";

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
    ...deps.keys.flatMap((k) =>
      uploadCiphertextLengths(Math.min(row.declaredSize, imageLimits.maxBytes), {
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
  let moved: Awaited<ReturnType<typeof moveUpload>>;
  try {
    moved = await moveUpload(deps, {
      inbox,
      ...(object.versionId ? { versionId: object.versionId } : {}),
      target,
      ids,
      declaredType: row.contentType,
      maxPlaintextBytes: Math.min(row.declaredSize, imageLimits.maxBytes),
    });
  } catch (err) {
    if (err instanceof ImageRejectedError) return reject(err.reason, err.detail);
    throw err;
  }
  const { stored, sanitizer } = moved;
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

/**
 * The data path of the ingest, in constant memory: the upload's bytes from the inbox through the FLE
 * decryptor, the type check and metadata stripping, and envelope encryption, into a multipart upload
 * of the stored image. Throws the first `ImageRejectedError` of any stage (the upload is refused), or
 * the transient error; either way no stored object is left (the multipart upload is aborted).
 */
export async function moveUpload(
  deps: Pick<IngestDeps, "store" | "envelope" | "keys">,
  job: {
    readonly inbox: { readonly bucket: string; readonly key: string };
    readonly versionId?: string;
    readonly target: { readonly bucket: string; readonly key: string };
    readonly ids: ImageIds;
    readonly declaredType: ImageContentType;
    readonly maxPlaintextBytes: number;
  },
): Promise<{ stored: StoredObject; sanitizer: ImageSanitizer }> {
  // The first refusal wins: later stages only see their input torn down.
  let refusal: ImageRejectedError | undefined;
  const note = (err: unknown) => {
    if (err instanceof ImageRejectedError) refusal ??= err;
  };
  const sanitizer = sanitizeImage({ declaredType: job.declaredType });
  try {
    const opened = await deps.store.open(job.inbox, job.versionId ? { versionId: job.versionId } : {});
    const plaintext = openUpload(opened.body, {
      keys: deps.keys,
      context: uploadEncryptionContext(job.ids.imageId),
      maxPlaintextBytes: job.maxPlaintextBytes,
    });
    const clean: Readable = pipeline(plaintext, sanitizer, (err) => note(err));
    plaintext.on("error", note);
    sanitizer.on("error", note);
    const stored = await deps.store.upload(
      job.target,
      deps.envelope.encryptStream(clean, imageEnvelopeContext(job.ids)),
      {
        contentType: "application/octet-stream",
      },
    );
    return { stored, sanitizer };
  } catch (err) {
    note(err);
    throw refusal ?? err;
  }
}
