/**
 * Where an image lives in S3. One layout for the inbox (encrypted uploads, FLE key) and the images
 * bucket (envelope-encrypted images, KMS key): `<prefix>/<owner id>/<record id>/<image id>`. The ingest
 * trusts nothing but the key it parses: the owner, record and image must match a pending upload.
 */
import { encryptionPurposes, imageObjectPrefixes } from "@veil/core";

/** The three ids an image key encodes. */
export interface ImageIds {
  readonly ownerId: string;
  readonly recordId: string;
  readonly imageId: string;
}

const ownerShape = /^[A-Za-z0-9_-]{1,128}$/;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Prefix of uploads in the inbox bucket (the S3 event notification filters on it). */
export const inboxPrefix = imageObjectPrefixes.inbox;
/** Prefix of stored images in the images bucket. */
export const imagesPrefix = imageObjectPrefixes.images;

function checked(ids: ImageIds): ImageIds {
  if (!ownerShape.test(ids.ownerId) || !uuidShape.test(ids.recordId) || !uuidShape.test(ids.imageId)) {
    throw new RangeError("image ids have an unexpected shape");
  }
  return ids;
}

/** The inbox key of an upload. */
export function inboxKey(ids: ImageIds): string {
  const { ownerId, recordId, imageId } = checked(ids);
  return `${inboxPrefix}${ownerId}/${recordId}/${imageId}`;
}

/** The images-bucket key of a stored image. */
export function imageKey(ids: ImageIds): string {
  const { ownerId, recordId, imageId } = checked(ids);
  return `${imagesPrefix}${ownerId}/${recordId}/${imageId}`;
}

/** The ids of an inbox key, or `undefined` when the key is not one this system hands out. */
export function parseInboxKey(key: string): ImageIds | undefined {
  if (!key.startsWith(inboxPrefix)) return undefined;
  const parts = key.slice(inboxPrefix.length).split("/");
  if (parts.length !== 3) return undefined;
  const [ownerId, recordId, imageId] = parts as [string, string, string];
  try {
    return checked({ ownerId, recordId, imageId });
  } catch {
    return undefined;
  }
}

/** The encryption context binding of a stored image (owner, record and image; see README). */
export function imageEnvelopeContext(ids: ImageIds) {
  const { ownerId, recordId, imageId } = checked(ids);
  return {
    ownerId,
    recordId: `${recordId}/images/${imageId}`,
    purpose: encryptionPurposes.recordImage,
  } as const;
}
