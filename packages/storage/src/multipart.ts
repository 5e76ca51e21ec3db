/**
 * Writes a stream of unknown length to S3 in bounded memory: one reused part buffer. A body that fits
 * in one part is one PUT; a longer one is a multipart upload, parts sent one at a time (the source waits
 * meanwhile: backpressure reaches the decryptor and the GET). Any failure aborts the upload, so no
 * partial object is ever visible.
 */
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { ObjectLocation, StoredObject } from "./object-store.ts";
import { s3Failure } from "./object-store.ts";

export interface UploadStreamOptions {
  readonly partSize: number;
  readonly contentType?: string;
}

/** Uploads `body` to `location`; the stored object appears only when the whole body was read. */
export async function uploadStream(
  client: S3Client,
  location: ObjectLocation,
  body: Readable,
  options: UploadStreamOptions,
): Promise<StoredObject> {
  const target = { Bucket: location.bucket, Key: location.key };
  const part = Buffer.allocUnsafe(options.partSize);
  let filled = 0;
  let size = 0;
  let uploadId: string | undefined;
  const parts: { PartNumber: number; ETag: string | undefined }[] = [];
  // Errors of the body (a decryptor, a sanitizer) pass through as they are; S3's become typed.
  let sending = false;
  const s3 = async <T>(run: () => Promise<T>): Promise<T> => {
    sending = true;
    try {
      return await run();
    } finally {
      sending = false;
    }
  };

  const sendPart = async () => {
    if (!uploadId) {
      const created = await s3(() =>
        client.send(
          new CreateMultipartUploadCommand({
            ...target,
            ...(options.contentType ? { ContentType: options.contentType } : {}),
          }),
        ),
      );
      uploadId = created.UploadId;
    }
    const PartNumber = parts.length + 1;
    const out = await s3(() =>
      client.send(
        new UploadPartCommand({
          ...target,
          UploadId: uploadId,
          PartNumber,
          Body: part.subarray(0, filled),
          ContentLength: filled,
        }),
      ),
    );
    parts.push({ PartNumber, ETag: out.ETag });
    filled = 0;
  };

  try {
    for await (const chunk of body) {
      let data = chunk as Buffer;
      size += data.length;
      while (data.length > 0) {
        const n = Math.min(data.length, part.length - filled);
        data.copy(part, filled, 0, n);
        filled += n;
        data = data.subarray(n);
        if (filled === part.length) await sendPart();
      }
    }
    if (!uploadId) {
      const out = await s3(() =>
        client.send(
          new PutObjectCommand({
            ...target,
            Body: part.subarray(0, filled),
            ContentLength: filled,
            ...(options.contentType ? { ContentType: options.contentType } : {}),
          }),
        ),
      );
      return { versionId: out.VersionId, eTag: out.ETag, size };
    }
    if (filled > 0) await sendPart();
    const done = await s3(() =>
      client.send(
        new CompleteMultipartUploadCommand({
          ...target,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
      ),
    );
    let versionId = done.VersionId;
    if (!versionId) {
      // Some S3-compatible servers omit the version on completion; the version with this ETag is ours.
      const head = await s3(() => client.send(new HeadObjectCommand({ ...target, IfMatch: done.ETag })));
      versionId = head.VersionId;
    }
    return { versionId, eTag: done.ETag, size };
  } catch (err) {
    body.destroy();
    if (uploadId) {
      await client
        .send(new AbortMultipartUploadCommand({ ...target, UploadId: uploadId }))
        .catch(() => undefined);
    }
    throw sending ? s3Failure("Upload", err) : err;
  }
}
