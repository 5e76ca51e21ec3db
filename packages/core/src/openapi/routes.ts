/**
 * What each route of the route tables does, for the API description: one entry per `"METHOD /resource"`.
 * A route without an entry fails the type-check (for the tables typed here) and the generator (for any
 * table), so no route ships undocumented. To describe a new route, add one entry: its summary, the
 * shared parameters it reads, its form (a schema of ./schemas.ts), its success answer and the statuses it
 * can refuse with beyond the ones every route can give (`commonErrors` of ./document.ts).
 */
import type { AccountRouteKey, ImageRouteKey, RecordRouteKey } from "../api.ts";

/** The shared parameters (./document.ts `parameters`). */
export type ParameterName =
  | "recordId"
  | "imageId"
  | "view"
  | "limit"
  | "exportLimit"
  | "cursor"
  | "ifMatch"
  | "ifMatchOptional"
  | "idempotencyKey";

/** The shared response headers (./document.ts `responseHeaders`). */
export type HeaderName = "etag" | "location" | "idempotentReplayed" | "contentDisposition";

/** How a route answers when it succeeds. */
export interface SuccessDoc {
  readonly status: 200 | 201 | 204;
  readonly description: string;
  /** The plaintext schema (./schemas.ts) of a buffered answer; sealed on the way. None for 204. */
  readonly body?: string;
  /** A streamed binary answer (the image download), sealed as one framed message. */
  readonly stream?: true;
  readonly headers?: readonly HeaderName[];
}

/** The description of one route. */
export interface RouteDoc {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "records" | "images" | "account";
  readonly parameters?: readonly ParameterName[];
  /** The schema (./schemas.ts) of the url-encoded request body. */
  readonly form?: string;
  readonly success: SuccessDoc;
  /** Statuses this route refuses with, beyond `commonErrors`. */
  readonly errors: readonly number[];
}

/** `"METHOD /resource"` of every route of the tables the description is built from. */
export type ApiRouteKey = RecordRouteKey | ImageRouteKey | AccountRouteKey;

const update = {
  tag: "records",
  parameters: ["recordId", "ifMatch"],
  form: "RecordForm",
  success: { status: 200, description: "The record as updated.", body: "RecordMetadata", headers: ["etag"] },
  // The id, If-Match and the record's version are settled before the body is read: 404, 428, 400, 412.
  errors: [400, 404, 412, 413, 415, 428],
} as const;

/** The description of every route, by `"METHOD /resource"`. */
export const routeDocs = {
  "POST /api/records": {
    operationId: "createRecord",
    summary: "Create a record",
    description:
      "Creates a record from a url-encoded form. With an `Idempotency-Key`, a retry of the same form returns the first result (`Idempotent-Replayed: true`).",
    tag: "records",
    parameters: ["idempotencyKey"],
    form: "RecordForm",
    success: {
      status: 201,
      description: "The record was created.",
      body: "RecordMetadata",
      headers: ["location", "etag", "idempotentReplayed"],
    },
    errors: [400, 409, 413, 415, 422],
  },
  "GET /api/records": {
    operationId: "listRecords",
    summary: "List my records",
    description:
      "The caller's records, newest first, one page at a time: each item's metadata and the sensitive fields of the chosen `view`, decrypted for the owner. Every record whose values are returned is on its audit trail (`list`) before the answer leaves; `view=metadata` decrypts and audits nothing.",
    tag: "records",
    parameters: ["view", "limit", "cursor"],
    success: { status: 200, description: "A page of records.", body: "RecordList" },
    errors: [400],
  },
  "GET /api/records/{id}": {
    operationId: "getRecord",
    summary: "Read a record",
    description:
      "The record with its decrypted fields. The read is on the audit trail before it is answered.",
    tag: "records",
    parameters: ["recordId"],
    success: { status: 200, description: "The record.", body: "Record", headers: ["etag"] },
    errors: [404],
  },
  "PUT /api/records/{id}": {
    ...update,
    operationId: "replaceRecord",
    summary: "Update a record (PUT; refused at the edge)",
    description:
      "The same update as `POST /api/records/{id}`. CloudFront encrypts the fields of POST bodies only, so it refuses every PUT with 405 before it reaches the API: clients update with POST.",
    errors: [...update.errors, 405],
  },
  "POST /api/records/{id}": {
    ...update,
    operationId: "updateRecord",
    summary: "Update a record",
    description:
      "Replaces every field of the record if `If-Match` carries its current ETag: without it 428, malformed 400, unknown record 404, another version 412, all before the body is read; then 415 or 400 for the body.",
  },
  "DELETE /api/records/{id}": {
    operationId: "deleteRecord",
    summary: "Delete a record",
    description: "Erases the record; its audit trail keeps that it happened. `If-Match` is optional.",
    tag: "records",
    parameters: ["recordId", "ifMatchOptional"],
    success: { status: 204, description: "The record was deleted." },
    errors: [400, 404, 412],
  },
  "GET /api/records/{id}/audit": {
    operationId: "getRecordAudit",
    summary: "Read a record's audit trail",
    tag: "records",
    parameters: ["recordId"],
    success: { status: 200, description: "Who did what to the record, and when.", body: "AuditTrail" },
    errors: [404],
  },
  "POST /api/records/{id}/images": {
    operationId: "announceImage",
    summary: "Announce an image upload",
    description:
      "Creates a pending image and answers a presigned PUT for its encrypted bytes. The file never passes through the API: the browser encrypts it under the edge's public key and uploads it; the ingest checks it and marks it `ready` or `rejected`.",
    tag: "images",
    parameters: ["recordId"],
    form: "ImageAnnouncement",
    success: {
      status: 201,
      description: "A pending image and its upload URL.",
      body: "ImageUpload",
      headers: ["location"],
    },
    errors: [400, 404, 413, 415],
  },
  "GET /api/records/{id}/images": {
    operationId: "listImages",
    summary: "List a record's images",
    tag: "images",
    parameters: ["recordId"],
    success: { status: 200, description: "The record's images, oldest first.", body: "ImageList" },
    errors: [404],
  },
  "GET /api/records/{id}/images/{imageId}": {
    operationId: "downloadImage",
    summary: "Download an image",
    description:
      "Streams the image, sealed as one framed message. The download is on the audit trail before any byte is sent; damage found after the status line aborts the connection (a short body), never a complete-looking file.",
    tag: "images",
    parameters: ["recordId", "imageId"],
    success: {
      status: 200,
      description: "The image.",
      stream: true,
      headers: ["contentDisposition"],
    },
    errors: [404, 409],
  },
  "GET /api/export": {
    operationId: "exportRecords",
    summary: "Export my records",
    description:
      "Portability: a page of the caller's records with every field decrypted and each record's image list (newest first, the list's cursor). Fetch every page, then every `ready` image by its id, to assemble the archive. Every record of a page is on its audit trail (`export`) before the answer leaves. A record lists at most 100 images per page (the oldest) and says how many it left out (`imagesOmitted`; `GET /api/records/{id}/images` lists them all), so a page stays far below Lambda's 6 MB answer limit.",
    tag: "records",
    parameters: ["exportLimit", "cursor"],
    success: { status: 200, description: "A page of complete records.", body: "ExportPage" },
    errors: [400],
  },
  "DELETE /api/account": {
    operationId: "deleteAccount",
    summary: "Delete my account",
    description:
      "Erases everything of the caller: uploads not yet ingested, records, images, idempotency keys, sign-in bindings, then the Cognito user; the audit trail is kept without anything identifying. Every step can be repeated, so after a 5xx (nothing is reported done that is not) the same request finishes the erasure. A large account may need several calls: each does a bounded amount of work and, while uploads are left, answers 503 with Retry-After; stored images over the bound are deleted by the scheduled image cleanup. The answer counts what was erased and names nothing.",
    tag: "account",
    success: { status: 200, description: "What was erased, as counts.", body: "AccountErasure" },
    errors: [],
  },
} as const satisfies Record<ApiRouteKey, RouteDoc>;
