/**
 * Where recovery reads ciphertext from: a record's row and its images' rows in PostgreSQL (any copy of
 * the database — RDS, a restored snapshot, a dump loaded elsewhere) and the image objects in S3. Plain
 * SQL and the AWS SDK's S3 client, with the stored layout spelled out here, so this works without the
 * rest of Veil's code. Only ciphertext and identifiers are read.
 */
import type { Readable } from "node:stream";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";

/** A record's row: its ids and the Encryption SDK message of its sensitive fields. */
export interface StoredRecord {
  readonly id: string;
  readonly ownerId: string;
  readonly category: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly version: number;
  readonly ciphertext: Buffer;
}

/** An image of a record that has a stored object (status `ready`). */
export interface StoredImage {
  readonly id: string;
  readonly ownerId: string;
  readonly recordId: string;
  readonly contentType: string;
  readonly size: number;
  /** The S3 version the ingest wrote; null on a store without versions. */
  readonly objectVersion: string | null;
}

/** The images bucket's key of a stored image (`images/<owner id>/<record id>/<image id>`). */
export function storedImageKey(image: Pick<StoredImage, "ownerId" | "recordId" | "id">): string {
  return `images/${image.ownerId}/${image.recordId}/${image.id}`;
}

/** Reads a record's row and, when asked, its stored images; `undefined` when there is no such record. */
export async function readRecord(
  databaseUrl: string,
  recordId: string,
  withImages: boolean,
): Promise<{ record: StoredRecord; images: StoredImage[] } | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query(
      `SELECT id::text, owner_id, category, created_at, updated_at, version, ciphertext
         FROM records WHERE id::text = $1`,
      [recordId],
    );
    const row = rows.rows[0] as Record<string, unknown> | undefined;
    if (!row) return undefined;
    const record: StoredRecord = {
      id: row.id as string,
      ownerId: row.owner_id as string,
      category: row.category as string,
      createdAt: row.created_at as Date,
      updatedAt: row.updated_at as Date,
      version: Number(row.version),
      ciphertext: row.ciphertext as Buffer,
    };
    if (!withImages) return { record, images: [] };
    const images = await client.query(
      `SELECT id::text, owner_id, record_id::text, content_type, size, object_version
         FROM images WHERE record_id::text = $1 AND status = 'ready' ORDER BY created_at, id`,
      [recordId],
    );
    return {
      record,
      images: (images.rows as Record<string, unknown>[]).map((r) => ({
        id: r.id as string,
        ownerId: r.owner_id as string,
        recordId: r.record_id as string,
        contentType: r.content_type as string,
        size: Number(r.size),
        objectVersion: (r.object_version as string | null) ?? null,
      })),
    };
  } finally {
    await client.end();
  }
}

export interface ObjectSource {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** An S3 client for an endpoint (path-style, for local and S3-compatible servers) or AWS itself. */
export function s3Client(options: {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

/** Opens a stored image's object: the version the ingest recorded, else the latest. */
export async function openImage(source: ObjectSource, image: StoredImage): Promise<Readable> {
  const out = await source.s3.send(
    new GetObjectCommand({
      Bucket: source.bucket,
      Key: storedImageKey(image),
      ...(image.objectVersion ? { VersionId: image.objectVersion } : {}),
    }),
  );
  if (!out.Body) throw new Error(`image ${image.id}: the object has no body`);
  return out.Body as Readable;
}
