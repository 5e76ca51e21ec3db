import type { ImageRow } from "@veil/db";

/** Pending uploads this long past their URL's expiry are shown as rejected (`expired`). */
export const pendingGraceMs = 15 * 60_000;

/** What the owner sees of an image: metadata and status, never a storage key or version. */
export function imageView(row: ImageRow, now = Date.now()) {
  const expired = row.status === "pending" && now > row.uploadExpiresAt.getTime() + pendingGraceMs;
  const status = expired ? "rejected" : row.status;
  const reason = expired ? "expired" : row.reason;
  return {
    id: row.id,
    recordId: row.recordId,
    status,
    ...(reason ? { reason } : {}),
    contentType: row.contentType,
    ...(row.size !== null ? { size: row.size } : {}),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    ...(status === "ready" ? { href: `/api/records/${row.recordId}/images/${row.id}` } : {}),
  };
}
