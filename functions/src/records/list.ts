import { encryptionPurposes, type SensitiveFields } from "@veil/core";
import { audit, type RecordRow, records } from "@veil/db";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { HttpError } from "../shared/errors.ts";
import { json } from "../shared/http.ts";
import { intParam, singleParam } from "../shared/query.ts";
import { metadata, type RouteInput } from "./routes.ts";

/**
 * What a list item carries besides its metadata, per `view`: `names` (the default) what the list
 * shows, `search` what the browser searches in as well, `metadata` nothing sensitive (no decrypt).
 */
export const listViews = {
  names: ["fullName", "dateOfBirth"],
  search: ["fullName", "dateOfBirth", "insuranceNumber", "diagnosis"],
  metadata: [],
} as const satisfies Record<string, readonly (keyof SensitiveFields)[]>;

export type ListView = keyof typeof listViews;

const badRequest = () => new HttpError(400, "BadRequest", "The list parameters are not valid");

/** `view`, `limit` (1..100, digits only) and `cursor` of the query; anything else about them is 400. */
function listQuery(event: APIGatewayProxyEvent): { view: ListView; limit?: number; cursor?: string } {
  const view = singleParam(event, "view", badRequest) ?? "names";
  if (!Object.hasOwn(listViews, view)) throw badRequest();
  const limit = intParam(event, "limit", { min: 1, max: 100 }, badRequest);
  const cursor = singleParam(event, "cursor", badRequest);
  return {
    view: view as ListView,
    ...(limit !== undefined ? { limit } : {}),
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

/** The fields of `view` out of a record's decrypted fields (absent optional fields stay absent). */
function pick(fields: SensitiveFields, view: ListView): Partial<SensitiveFields> {
  const out: Partial<SensitiveFields> = {};
  for (const name of listViews[view]) {
    if (fields[name] !== undefined) out[name] = fields[name];
  }
  return out;
}

/**
 * GET /api/records — the caller's records, newest first, in keyset pages (`limit` ≤ 100, `cursor`).
 * Items carry their metadata and, unless `view=metadata`, the fields of their view, decrypted for the
 * owner (concurrently: the cached materials serve most records from memory, and records under one
 * data key share one KMS call). Every record whose values are returned is on its audit trail before
 * the answer leaves, in one batch per page: if that write fails, nothing is returned.
 */
export async function listRecords({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const { view, ...options } = listQuery(event);
  if (view === "metadata") {
    const page = await records.listMetadata(deps.pool, caller.sub, options);
    return json(
      200,
      { items: page.items.map(metadata), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
      requestId,
    );
  }
  const page = await records.list(deps.pool, caller.sub, options);
  // The page's audit batch is written while its records are decrypted (the database works while this
  // thread decrypts); the answer waits for both, so a failed audit write returns nothing. If a decrypt
  // fails instead, the trail names records that were not returned: it may over-report, never omit.
  const audited = audit.appendMany(
    deps.pool,
    page.items.map((row) => ({
      ownerId: caller.sub,
      actor: caller.sub,
      action: "list" as const,
      recordId: row.id,
      requestId,
    })),
  );
  const decrypted = Promise.all(
    page.items.map(async (row: RecordRow) => {
      const fields = await deps.envelope.decryptFields(row.ciphertext, {
        ownerId: caller.sub,
        recordId: row.id,
        purpose: encryptionPurposes.recordFields,
      });
      return { ...metadata(row), ...pick(fields, view) };
    }),
  );
  const [items] = await Promise.all([decrypted, audited]);
  return json(200, { items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }, requestId);
}
