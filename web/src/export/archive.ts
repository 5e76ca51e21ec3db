/**
 * The data export as one readable ZIP archive, made in the browser with fflate: `records.json` (every
 * record with every field and its image list) and `images/<recordId>/<imageId>.<ext>` (the decrypted
 * files). `README.txt` says what is inside. Images are stored, not deflated: JPEG, PNG, WebP and most
 * PDFs are compressed already, and storing keeps the archive quick to make for large files.
 */
import type { ImageContentType } from "@veil/core";
import { strToU8, type Zippable, zipSync } from "fflate";
import type { ExportedRecord } from "./model.ts";

/** One downloaded image. */
export interface ArchiveFile {
  readonly recordId: string;
  readonly imageId: string;
  readonly contentType: ImageContentType;
  readonly bytes: Uint8Array;
}

export interface ArchiveInput {
  readonly exportedAt: Date;
  readonly records: readonly ExportedRecord[];
  readonly files: readonly ArchiveFile[];
}

const extensions: Readonly<Record<ImageContentType, string>> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "application/pdf": "pdf",
};

/** The path of an image inside the archive. */
export function imagePath(file: Pick<ArchiveFile, "recordId" | "imageId" | "contentType">): string {
  return `images/${file.recordId}/${file.imageId}.${extensions[file.contentType]}`;
}

/** The archive's file name, e.g. `veil-export-2026-12-07.zip`. */
export function archiveName(exportedAt: Date): string {
  return `veil-export-${exportedAt.toISOString().slice(0, 10)}.zip`;
}

const readme = `Your Veil data

records.json  every record with all its fields, and the list of its images
images/       the images, one folder per record: images/<record id>/<image id>.<type>

Each image in records.json has "file" set to its path here when it was downloaded. Images still being
checked or refused (status "pending" or "rejected") have no file.
`;

/**
 * Builds the archive: `records.json`, `README.txt` and one entry per file.
 *
 * @example
 * const zip = buildArchive({ exportedAt: new Date(), records, files });
 * const url = URL.createObjectURL(new Blob([zip], { type: "application/zip" }));
 */
export function buildArchive(input: ArchiveInput): Uint8Array {
  const saved = new Set(input.files.map((f) => `${f.recordId}/${f.imageId}`));
  const records = input.records.map((r) => ({
    ...r,
    images: r.images.map((i) =>
      saved.has(`${r.id}/${i.id}`)
        ? { ...i, file: imagePath({ recordId: r.id, imageId: i.id, contentType: i.contentType }) }
        : i,
    ),
  }));
  const doc = { format: "veil-export", version: 1, exportedAt: input.exportedAt.toISOString(), records };
  const mtime = input.exportedAt;
  const entries: Zippable = {
    "README.txt": [strToU8(readme), { mtime }],
    "records.json": [strToU8(`${JSON.stringify(doc, null, 2)}\n`), { mtime }],
  };
  for (const file of input.files) entries[imagePath(file)] = [file.bytes, { level: 0, mtime }];
  return zipSync(entries);
}
