/**
 * Collects the whole export: every page of `GET /api/export`, then every ready image through the
 * images API (each download opened in the browser and written to the record's access history), a few
 * at a time. Any failure stops the export: an archive must be complete or not be offered at all.
 */

import type { ArchiveFile, ArchiveInput } from "./archive.ts";
import type { ExportedImage, ExportedRecord, ExportPage } from "./model.ts";

export interface CollectSources {
  readonly page: (cursor?: string) => Promise<ExportPage>;
  readonly download: (recordId: string, imageId: string) => Promise<Blob>;
  /** Every image of a record, for one whose export page left some out (`imagesOmitted`). */
  readonly images?: (recordId: string) => Promise<readonly ExportedImage[]>;
  /** Progress for the screen: records read so far, images fetched of those to fetch. */
  readonly onProgress?: (p: {
    readonly records: number;
    readonly images: number;
    readonly imagesTotal: number;
  }) => void;
  readonly now?: () => Date;
}

/** Image downloads in flight at once. */
const parallel = 3;

/** The record with its whole image list: fetched when its page left some out (or the export fails). */
async function complete(record: ExportedRecord, sources: CollectSources): Promise<ExportedRecord> {
  if (!record.imagesOmitted) return record;
  if (!sources.images) throw new Error("The export left images out and cannot list them");
  const { imagesOmitted: _, ...rest } = record;
  const all = await sources.images(record.id);
  // The image list is itself bounded: an archive missing images must fail, never look complete.
  if (all.length < record.images.length + record.imagesOmitted) {
    throw new Error("The export could not list all images of a record");
  }
  const images = all.map(({ id, status, contentType, size, reason, createdAt }) => ({
    id,
    status,
    contentType,
    ...(size !== undefined ? { size } : {}),
    ...(reason !== undefined ? { reason } : {}),
    createdAt,
  }));
  return { ...rest, images } as ExportedRecord;
}

/** Reads every page and every ready image; resolves with what `buildArchive` takes. */
export async function collectExport(sources: CollectSources): Promise<ArchiveInput> {
  const exportedAt = (sources.now ?? (() => new Date()))();
  const records: ExportedRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await sources.page(cursor);
    for (const record of page.items) records.push(await complete(record, sources));
    cursor = page.nextCursor;
    sources.onProgress?.({ records: records.length, images: 0, imagesTotal: 0 });
  } while (cursor);

  const wanted = records.flatMap((r) =>
    r.images
      .filter((i) => i.status === "ready")
      .map((i) => ({ recordId: r.id, imageId: i.id, contentType: i.contentType })),
  );
  const files: ArchiveFile[] = [];
  for (let i = 0; i < wanted.length; i += parallel) {
    const slice = wanted.slice(i, i + parallel);
    const blobs = await Promise.all(slice.map((w) => sources.download(w.recordId, w.imageId)));
    for (const [j, blob] of blobs.entries()) {
      files.push({
        ...(slice[j] as (typeof wanted)[number]),
        bytes: new Uint8Array(await blob.arrayBuffer()),
      });
    }
    sources.onProgress?.({ records: records.length, images: files.length, imagesTotal: wanted.length });
  }
  return { exportedAt, records, files };
}
