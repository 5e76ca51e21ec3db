/**
 * The account API of the signed-in user: the pages of the data export, and erasure of the account.
 * Answers come through the API client (which opens sealed answers), so values only exist here, in
 * memory, until the archive is saved.
 */
import type { Category, ImageContentType, SensitiveFields } from "@veil/core";
import type { ApiClient } from "./client.ts";

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
} & SensitiveFields;

export interface ExportPage {
  readonly items: readonly ExportedRecord[];
  readonly nextCursor?: string;
}

/** What `DELETE /api/account` reports: counts only. */
export interface ErasureReport {
  readonly records: number;
  readonly images: number;
  readonly user: "deleted" | "absent";
}

/** The account API, typed. */
export function accountApi(call: ApiClient) {
  return {
    async exportPage(cursor?: string): Promise<ExportPage> {
      const query = cursor ? `?${new URLSearchParams({ cursor }).toString()}` : "";
      return (await call<ExportPage>({ method: "GET", path: `/api/export${query}` })).body;
    },
    /** Erases every record, image and the user itself; the session is over afterwards. */
    async deleteAccount(): Promise<ErasureReport> {
      return (await call<{ erased: ErasureReport }>({ method: "DELETE", path: "/api/account" })).body.erased;
    },
  };
}

export type AccountApi = ReturnType<typeof accountApi>;
