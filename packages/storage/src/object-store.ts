// Over 300 lines: one adapter over the S3 client; its operations share client and errors.
/**
 * The S3 object store of encrypted objects: presigned uploads, streamed reads and writes in bounded
 * memory, and the versions a versioned bucket keeps (list, delete one, copy one back on top). One small
 * wrapper over the AWS SDK v3 S3 client, typed errors, nothing else.
 */
import type { Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { ObjectNotFoundError, StorageConfigError, StorageError, StorageUnavailableError } from "./errors.ts";
import { uploadStream } from "./multipart.ts";

/** Where an object lives. */
export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/** One version of an object, or a delete marker. Newest first in listings. */
export interface ObjectVersion {
  /** `null` on an unversioned bucket (S3 calls that version "null"). */
  readonly versionId: string | null;
  readonly isLatest: boolean;
  readonly isDeleteMarker: boolean;
  readonly lastModified: Date | undefined;
  /** Bytes; undefined for delete markers. */
  readonly size: number | undefined;
  readonly eTag: string | undefined;
}

export interface ObjectStoreOptions {
  readonly region: string;
  /** A non-AWS endpoint (the local S3 stand-in); turns on path-style addressing. */
  readonly endpoint?: string;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Use this client instead of building one. */
  readonly client?: S3Client;
  /** Multipart part size for `upload` (≥ 5 MiB). Default 8 MiB: the memory one upload holds. */
  readonly partSize?: number;
}

/** What a written object ended up as. */
export interface StoredObject {
  readonly versionId: string | undefined;
  readonly eTag: string | undefined;
  readonly size: number;
}

/** An opened object: its body streams. */
export interface OpenedObject {
  readonly body: Readable;
  readonly contentLength: number | undefined;
  readonly versionId: string | undefined;
  readonly eTag: string | undefined;
}

export interface ObjectStore {
  readonly client: S3Client;
  /**
   * A presigned PUT URL. With `contentLength`, the length is signed: S3 refuses any other body length
   * (a SigV4 mismatch), so the URL cannot carry a bigger object.
   */
  presignPut(
    location: ObjectLocation,
    options: { expiresInSeconds: number; contentLength?: number },
  ): Promise<{ url: string; expiresAt: Date; headers: Record<string, string> }>;
  /** Opens an object (the latest version, or `versionId`) for streaming. */
  open(location: ObjectLocation, options?: { versionId?: string; ifMatch?: string }): Promise<OpenedObject>;
  /** Writes a stream of unknown length (multipart above one part) and returns the version written. */
  upload(location: ObjectLocation, body: Readable, options?: { contentType?: string }): Promise<StoredObject>;
  /** Writes bytes in one PUT. */
  put(location: ObjectLocation, body: Uint8Array, options?: { contentType?: string }): Promise<StoredObject>;
  /** The object's metadata, or `undefined` when there is none (or the latest version is a delete marker). */
  head(location: ObjectLocation, options?: { versionId?: string }): Promise<StoredObject | undefined>;
  /**
   * Deletes one version for good (with `versionId`), or the object (an unversioned bucket; on a
   * versioned one this adds a delete marker). Deleting what is not there succeeds.
   */
  delete(location: ObjectLocation, versionId?: string): Promise<void>;
  /** Every version and delete marker of exactly this key, newest first. */
  listVersions(location: ObjectLocation): Promise<ObjectVersion[]>;
  /** Copies an old version on top: it becomes the latest again. Returns the new version. */
  copyVersion(location: ObjectLocation, versionId: string): Promise<StoredObject>;
  /** True when the bucket keeps versions. */
  isVersioned(bucket: string): Promise<boolean>;
}

const notFoundNames = new Set(["NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchBucket"]);
const unsupported = new Set(["MethodNotAllowed", "NotImplemented"]);

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : "Error";
}

/** Maps an SDK failure to a typed, key-free error. */
export function s3Failure(operation: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const name = errorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (notFoundNames.has(name) || status === 404) return new ObjectNotFoundError(operation);
  return new StorageUnavailableError(operation, name);
}

async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw s3Failure(operation, err);
  }
}

/** Builds an S3 client for AWS or for a local S3-compatible endpoint. */
export function createS3Client(options: Omit<ObjectStoreOptions, "client" | "partSize">): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    // Stream bodies are sent as they are: default "aws-chunked" checksums break S3 stand-ins, and
    // every object we write is an authenticated Encryption SDK message anyway.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** Creates the object store. */
export function createObjectStore(options: ObjectStoreOptions): ObjectStore {
  const client = options.client ?? createS3Client(options);
  const partSize = options.partSize ?? 8 * 1024 * 1024;
  if (!Number.isInteger(partSize) || partSize < 5 * 1024 * 1024) {
    throw new StorageConfigError("partSize must be an integer of at least 5 MiB");
  }

  async function listAllVersions(location: ObjectLocation): Promise<ObjectVersion[]> {
    const versions: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await call("ListObjectVersions", () =>
        client.send(
          new ListObjectVersionsCommand({
            Bucket: location.bucket,
            Prefix: location.key,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
          }),
        ),
      );
      for (const v of page.Versions ?? []) {
        if (v.Key !== location.key) continue;
        versions.push({
          versionId: v.VersionId ?? null,
          isLatest: v.IsLatest === true,
          isDeleteMarker: false,
          lastModified: v.LastModified,
          size: v.Size,
          eTag: v.ETag,
        });
      }
      for (const m of page.DeleteMarkers ?? []) {
        if (m.Key !== location.key) continue;
        versions.push({
          versionId: m.VersionId ?? null,
          isLatest: m.IsLatest === true,
          isDeleteMarker: true,
          lastModified: m.LastModified,
          size: undefined,
          eTag: undefined,
        });
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    // Latest first, then by time (S3 lists versions of one key newest first, but markers apart).
    return versions.sort(
      (a, b) =>
        Number(b.isLatest) - Number(a.isLatest) ||
        (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0),
    );
  }

  const store: ObjectStore = {
    client,
    async presignPut(location, { expiresInSeconds, contentLength }) {
      if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > 3600) {
        throw new StorageConfigError("expiresInSeconds must be 1..3600");
      }
      const command = new PutObjectCommand({
        Bucket: location.bucket,
        Key: location.key,
        ...(contentLength !== undefined ? { ContentLength: contentLength } : {}),
      });
      const url = await call("PresignPut", () =>
        getSignedUrl(client, command, {
          expiresIn: expiresInSeconds,
          ...(contentLength !== undefined ? { signableHeaders: new Set(["content-length"]) } : {}),
        }),
      );
      return {
        url,
        expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
        headers: (contentLength !== undefined ? { "content-length": String(contentLength) } : {}) as Record<
          string,
          string
        >,
      };
    },

    async open(location, opts = {}) {
      const out = await call("GetObject", () =>
        client.send(
          new GetObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(opts.versionId ? { VersionId: opts.versionId } : {}),
            ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
          }),
        ),
      );
      const body = out.Body as Readable | undefined;
      if (!body) throw new StorageUnavailableError("GetObject", "NoBody");
      body.on("error", () => undefined); // consumers see the error through their pipeline
      return {
        body,
        contentLength: out.ContentLength,
        versionId: out.VersionId,
        eTag: out.ETag,
      };
    },

    upload(location, body, opts = {}) {
      return uploadStream(client, location, body, { partSize, ...opts });
    },

    async put(location, body, opts = {}) {
      const out = await call("PutObject", () =>
        client.send(
          new PutObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            Body: body,
            ContentLength: body.byteLength,
            ...(opts.contentType ? { ContentType: opts.contentType } : {}),
          }),
        ),
      );
      return { versionId: out.VersionId, eTag: out.ETag, size: body.byteLength };
    },

    async head(location, opts = {}) {
      try {
        const out = await client.send(
          new HeadObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(opts.versionId ? { VersionId: opts.versionId } : {}),
          }),
        );
        return { versionId: out.VersionId, eTag: out.ETag, size: out.ContentLength ?? 0 };
      } catch (err) {
        const typed = s3Failure("HeadObject", err);
        if (typed instanceof ObjectNotFoundError) return undefined;
        // A HEAD on a delete marker answers 405 (MethodNotAllowed) with x-amz-delete-marker.
        if (errorName(err) === "MethodNotAllowed") return undefined;
        throw typed;
      }
    },

    async delete(location, versionId) {
      await call("DeleteObject", () =>
        client.send(
          new DeleteObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            ...(versionId ? { VersionId: versionId } : {}),
          }),
        ),
      ).catch((err: unknown) => {
        if (!(err instanceof ObjectNotFoundError)) throw err;
      });
    },

    async listVersions(location) {
      try {
        return await listAllVersions(location);
      } catch (err) {
        // A store without versioning (s3rver) has no such call: the object itself is its one version.
        if (!(err instanceof StorageUnavailableError && unsupported.has(err.s3ErrorName))) throw err;
        const head = await store.head(location);
        if (!head) return [];
        return [
          {
            versionId: null,
            isLatest: true,
            isDeleteMarker: false,
            lastModified: undefined,
            size: head.size,
            eTag: head.eTag,
          },
        ];
      }
    },

    async copyVersion(location, versionId) {
      const source = `${location.bucket}/${encodeURIComponent(location.key).replace(/%2F/g, "/")}?versionId=${encodeURIComponent(versionId)}`;
      const out = await call("CopyObject", () =>
        client.send(
          new CopyObjectCommand({ Bucket: location.bucket, Key: location.key, CopySource: source }),
        ),
      );
      const head = await store.head(location);
      return {
        versionId: out.VersionId ?? head?.versionId,
        eTag: out.CopyObjectResult?.ETag,
        size: head?.size ?? 0,
      };
    },

    async isVersioned(bucket) {
      try {
        const out = await client.send(new GetBucketVersioningCommand({ Bucket: bucket }));
        return out.Status === "Enabled";
      } catch (err) {
        const typed = s3Failure("GetBucketVersioning", err);
        if (typed instanceof StorageUnavailableError && typed.s3ErrorName === "NotImplemented") return false;
        throw typed;
      }
    },
  };
  return store;
}
