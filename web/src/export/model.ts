/** What `GET /api/export` answers: the shapes the archive is made of. */
import type { Category, ImageContentType, SensitiveFields } from "@veil/core";

/** An image as the export lists it; only `ready` ones have bytes to download. */
export interface ExportedImage {
  readonly id: string;
  readonly status: "pending" | "ready" | "rejected";
  readonly contentType: ImageContentType;
  readonly size?: number;
  readonly reason?: string;
  readonly createdAt: string;
}

/** One record with every field, as `GET /api/export` returns it. */
export type ExportedRecord = {
  readonly id: string;
  readonly category: Category;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
  readonly images: readonly ExportedImage[];
  /** Images not in `images` (a page lists a bounded number per record); the image list has them all. */
  readonly imagesOmitted?: number;
} & SensitiveFields;

export interface ExportPage {
  readonly items: readonly ExportedRecord[];
  readonly nextCursor?: string;
}
