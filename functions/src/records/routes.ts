import {
  encryptionPurposes,
  headers as headerNames,
  idempotencyKeyPattern,
  isCanonicalId,
  splitSensitive,
  validateRecordInput,
} from "@veil/core";
import { audit, idempotency, type RecordRow, records, VersionConflictError, withTransaction } from "@veil/db";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { ApiRouteInput } from "../shared/api-handler.ts";
import { HttpError } from "../shared/errors.ts";
import { header, json, requireFormBody } from "../shared/http.ts";
import type { RecordsDeps } from "./deps.ts";

/** What every route gets: the deps, the verified caller, the event and its request id. */
export type RouteInput = ApiRouteInput<RecordsDeps>;

const purpose = encryptionPurposes.recordFields;

/** Metadata of a record: what every answer about it shows. Never a sensitive value. */
export function metadata(row: Omit<RecordRow, "ciphertext">) {
  return {
    id: row.id,
    category: row.category,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

const etag = (row: RecordRow) => ({ etag: `"${row.version}"` });

/**
 * The path's `{id}` in its one spelling (`isCanonicalId`), else 404 before anything else happens: no
 * encryption context, query or audit entry is ever built from another spelling of a record's id.
 */
function recordId(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id;
  if (!isCanonicalId(id)) throw new HttpError(404, "NotFound", "No such record");
  return id;
}

/** `If-Match: "3"` → 3. Updates need it so that no one overwrites a change they have not seen. */
function expectedVersion(event: APIGatewayProxyEvent, required: boolean): number | undefined {
  const raw = header(event, "if-match");
  if (raw === undefined) {
    if (required)
      throw new HttpError(428, "PreconditionRequired", 'Send If-Match with the record\'s ETag (e.g. "1")');
    return undefined;
  }
  const m = raw.trim().match(/^(?:W\/)?"?(\d{1,9})"?$/);
  if (!m) throw new HttpError(400, "BadRequest", "If-Match must be the record's ETag");
  return Number(m[1]);
}

/** Decrypts the FLE fields and validates them; nothing is written when this throws. */
async function readInput({ deps, event }: RouteInput) {
  const form = await deps.openForm(requireFormBody(event));
  return { form, ...splitSensitive(validateRecordInput(form)) };
}

/** POST /api/records — creates a record; an Idempotency-Key makes retries return the first result. */
export async function createRecord(input: RouteInput): Promise<APIGatewayProxyResult> {
  const { deps, caller, event, requestId } = input;
  const key = header(event, headerNames.idempotencyKey);
  if (key !== undefined && !idempotencyKeyPattern.test(key)) {
    throw new HttpError(400, "BadRequest", "Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 _ . : -");
  }
  const { form, sensitive, category } = await readInput(input);
  const id = records.newRecordId();
  const ciphertext = await deps.envelope.encryptFields(sensitive, {
    ownerId: caller.sub,
    recordId: id,
    purpose,
  });
  const requestHash = key
    ? await deps.requestHash(
        Object.keys(form)
          .sort()
          .flatMap((k) => [k, form[k] ?? ""]),
      )
    : undefined;
  const result = await withTransaction(deps.pool, async (tx) => {
    if (key && requestHash) {
      const claim = await idempotency.claim(tx, { ownerId: caller.sub, key, requestHash });
      if (claim.state === "completed" && claim.recordId) {
        return { row: await records.get(tx, caller.sub, claim.recordId), replayed: true };
      }
    }
    const row = await records.insert(tx, { id, ownerId: caller.sub, category, ciphertext });
    await audit.append(tx, {
      ownerId: caller.sub,
      actor: caller.sub,
      action: "create",
      recordId: id,
      requestId,
    });
    if (key) await idempotency.complete(tx, { ownerId: caller.sub, key, recordId: id, status: 201 });
    return { row, replayed: false };
  });
  return json(201, metadata(result.row), requestId, {
    location: `/api/records/${result.row.id}`,
    ...etag(result.row),
    ...(result.replayed ? { "idempotent-replayed": "true" } : {}),
  });
}

/** GET /api/records/{id} — the record with its decrypted fields; every read is audited first. */
export async function getRecord({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const row = await records.get(deps.pool, caller.sub, recordId(event));
  const fields = await deps.envelope.decryptFields(row.ciphertext, {
    ownerId: caller.sub,
    recordId: row.id,
    purpose,
  });
  // The read is on the trail before any plaintext leaves: if the audit write fails, nothing is returned.
  await audit.append(deps.pool, {
    ownerId: caller.sub,
    actor: caller.sub,
    action: "read",
    recordId: row.id,
    requestId,
  });
  return json(200, { ...metadata(row), ...fields }, requestId, etag(row));
}

/**
 * PUT or POST /api/records/{id} — replaces the record's fields, if the caller saw the latest version.
 * The id, the precondition and the record's existence are settled before the body is read (RFC 9110,
 * 13.2.1), so the two routes answer the same for the same request: 404, 428, 400 (If-Match), 412, then
 * 415 / 400 for the body. Browsers use POST: CloudFront encrypts the fields of POST bodies only.
 */
export async function updateRecord(input: RouteInput): Promise<APIGatewayProxyResult> {
  const { deps, caller, event, requestId } = input;
  const id = recordId(event);
  const version = expectedVersion(event, true) as number;
  const current = await records.get(deps.pool, caller.sub, id);
  // Fails early, before decrypting the form and spending a KMS-backed encryption; the UPDATE re-checks.
  if (current.version !== version) throw new VersionConflictError(version, current.version);
  const { sensitive, category } = await readInput(input);
  // Bound to the id as stored (read back from the row), never to the request's spelling of it.
  const ciphertext = await deps.envelope.encryptFields(sensitive, {
    ownerId: caller.sub,
    recordId: current.id,
    purpose,
  });
  const row = await withTransaction(deps.pool, async (tx) => {
    const updated = await records.update(tx, {
      id: current.id,
      ownerId: caller.sub,
      expectedVersion: version,
      category,
      ciphertext,
    });
    await audit.append(tx, {
      ownerId: caller.sub,
      actor: caller.sub,
      action: "update",
      recordId: updated.id,
      requestId,
    });
    return updated;
  });
  return json(200, metadata(row), requestId, etag(row));
}

/** DELETE /api/records/{id} — erases the record; the audit trail keeps that it happened. */
export async function deleteRecord({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const id = recordId(event);
  const version = expectedVersion(event, false);
  await withTransaction(deps.pool, async (tx) => {
    await records.remove(tx, {
      id,
      ownerId: caller.sub,
      ...(version !== undefined ? { expectedVersion: version } : {}),
    });
    await audit.append(tx, {
      ownerId: caller.sub,
      actor: caller.sub,
      action: "delete",
      recordId: id,
      requestId,
    });
  });
  return {
    statusCode: 204,
    headers: { [headerNames.requestId]: requestId, "cache-control": "no-store" },
    body: "",
  };
}

/** GET /api/records/{id}/audit — who did what to the record, and when. */
export async function recordAudit({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const events = await audit.listForRecord(deps.pool, caller.sub, recordId(event));
  if (events.length === 0) throw new HttpError(404, "NotFound", "No such record");
  return json(
    200,
    {
      items: events.map((e) => ({
        action: e.action,
        actor: e.actor === caller.sub ? "you" : "another principal",
        at: e.at.toISOString(),
        requestId: e.requestId,
      })),
    },
    requestId,
  );
}
