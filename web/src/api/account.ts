/**
 * The account API of the signed-in user: the pages of the data export, and erasure of the account.
 * Answers come through the API client (which opens sealed answers), so values only exist here, in
 * memory, until the archive is saved.
 */
import type { ExportPage } from "../export/model.ts";
import type { ApiClient } from "./client.ts";
import { ApiError } from "./errors.ts";

export type { ExportedImage, ExportedRecord, ExportPage } from "../export/model.ts";

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
    /**
     * Erases every record, image and the user itself; the session is over afterwards. A large account
     * is erased over several calls (each answers 503 until the last): asked again, a bounded number of
     * times, as the erasure is idempotent.
     */
    async deleteAccount(options: { readonly attempts?: number; readonly pauseMs?: number } = {}) {
      const attempts = options.attempts ?? 30;
      for (let attempt = 1; ; attempt++) {
        try {
          return (await call<{ erased: ErasureReport }>({ method: "DELETE", path: "/api/account" })).body
            .erased;
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 503 || attempt >= attempts) throw err;
          await new Promise((resolve) => setTimeout(resolve, options.pauseMs ?? 1000));
        }
      }
    },
  };
}

export type AccountApi = ReturnType<typeof accountApi>;
