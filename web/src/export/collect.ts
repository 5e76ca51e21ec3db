/**
 * Collects the whole export: every page of `GET /api/export`, then every ready image through the
 * images API (each download opened in the browser and written to the record's access history), a few
 * at a time. Any failure stops the export: an archive must be complete or not be offered at all.
 */

import type { ArchiveFile, ArchiveInput } from "./archive.ts";
import type { ExportedRecord, ExportPage } from "./model.ts";

export interface CollectSources {
  readonly page: (cursor?: string) => Promise<ExportPage>;
  readonly download: (recordId: string, imageId: string) => Promise<Blob>;
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

/** Reads every page and every ready image; resolves with what `buildArchive` takes. */
export async function collectExport(sources: CollectSources): Promise<ArchiveInput> {
  const exportedAt = (sources.now ?? (() => new Date()))();
  const records: ExportedRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await sources.page(cursor);
    records.push(...page.items);
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
