/**
 * `GET /api/export` — portability: the caller's records, every field decrypted, with each record's
 * image list, one page at a time (newest first, keyset cursor as the list). The browser fetches every
 * page and every ready image and assembles one archive; nothing is assembled here, so each answer stays
 * a small buffered one. Every record of a page is on its audit trail (`export`) before any plaintext
 * leaves, written in one statement per page.
 */
import { encryptionPurposes, exportImagesPerRecord, exportPageLimit } from "@veil/core";
import { audit, type ImageRow, images, records } from "@veil/db";
import type { APIGatewayProxyResult } from "aws-lambda";
import { HttpError } from "../shared/errors.ts";
import { json } from "../shared/http.ts";
import { intParam, singleParam } from "../shared/query.ts";
import { metadata, type RouteInput } from "./routes.ts";

/** An image as the export lists it: what the archive needs to fetch and name it. */
function exportedImage(image: ImageRow) {
  return {
    id: image.id,
    status: image.status,
    contentType: image.contentType,
    ...(image.size !== null ? { size: image.size } : {}),
    ...(image.reason ? { reason: image.reason } : {}),
    createdAt: image.createdAt.toISOString(),
  };
}

const badRequest = () => new HttpError(400, "BadRequest", "The export parameters are not valid");

/**
 * GET /api/export?cursor=&limit= — a page of complete records with their images. `limit` is 1..50 in
 * plain digits (default 50), `cursor` the previous page's `nextCursor`; a malformed or repeated
 * parameter is a generic 400, as on the list route. A record lists at most `exportImagesPerRecord`
 * images (its oldest) and says how many it left out (`imagesOmitted`; the record's image list route has
 * them all): with the page limit, a page's sealed answer stays far below Lambda's 6 MB.
 *
 * @example
 * // GET /api/export?limit=20 → { items: [{ id, fullName, …, images: [...] }], nextCursor }
 */
export async function exportRecords({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const limit = intParam(event, "limit", { min: 1, max: exportPageLimit }, badRequest) ?? exportPageLimit;
  const cursor = singleParam(event, "cursor", badRequest);
  const page = await records.list(deps.pool, caller.sub, { limit, ...(cursor ? { cursor } : {}) });
  const ids = page.items.map((r) => r.id);
  const [fields, imageRows] = await Promise.all([
    Promise.all(
      page.items.map((row) =>
        deps.envelope.decryptFields(row.ciphertext, {
          ownerId: caller.sub,
          recordId: row.id,
          purpose: encryptionPurposes.recordFields,
        }),
      ),
    ),
    images.listForRecords(deps.pool, caller.sub, ids),
  ]);
  await audit.appendMany(
    deps.pool,
    ids.map((recordId) => ({
      ownerId: caller.sub,
      actor: caller.sub,
      action: "export",
      recordId,
      requestId,
    })),
  );
  const byRecord = new Map<string, ReturnType<typeof exportedImage>[]>();
  for (const image of imageRows) {
    const list = byRecord.get(image.recordId) ?? [];
    list.push(exportedImage(image));
    byRecord.set(image.recordId, list);
  }
  const items = page.items.map((row, i) => {
    const all = byRecord.get(row.id) ?? [];
    const omitted = all.length - exportImagesPerRecord;
    return {
      ...metadata(row),
      ...fields[i],
      images: all.slice(0, exportImagesPerRecord),
      ...(omitted > 0 ? { imagesOmitted: omitted } : {}),
    };
  });
  return json(200, { items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }, requestId);
}
