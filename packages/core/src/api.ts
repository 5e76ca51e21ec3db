/**
 * The records API surface: one table read by the handler (routing), the local gateway and infra (API
 * Gateway resources and methods). Routes are public contracts: add, never rename.
 *
 * Contract of every route with an `{id}` (and `{imageId}`): the id is a lower-case UUID exactly as
 * returned (`isCanonicalId`); any other spelling is answered 404 before the request is read further.
 * Updates (`PUT` and `POST /api/records/{id}`, the same handler) require `If-Match` with the record's
 * ETag: without it 428, malformed 400, unknown record 404, another version 412 (RFC 9110 and 6585),
 * all before the body is read; then 415 / 400 for the body. `DELETE` takes an optional `If-Match`
 * (412 when stale).
 */
export const recordRoutes = [
  { method: "POST", resource: "/api/records" },
  { method: "GET", resource: "/api/records" },
  { method: "GET", resource: "/api/records/{id}" },
  { method: "PUT", resource: "/api/records/{id}" },
  // CloudFront encrypts fields of POST bodies only, so browsers update a record with POST.
  { method: "POST", resource: "/api/records/{id}" },
  { method: "DELETE", resource: "/api/records/{id}" },
  { method: "GET", resource: "/api/records/{id}/audit" },
  // Portability: every record of the caller with every field, and its image list, a page at a time.
  { method: "GET", resource: "/api/export" },
] as const;

type RouteOf<R> = R extends { method: infer M extends string; resource: infer P extends string }
  ? `${M} ${P}`
  : never;

/** `"METHOD /resource"` of each route. */
export type RecordRouteKey = RouteOf<(typeof recordRoutes)[number]>;

/**
 * The account API, served by its own function (it alone may delete objects of both image buckets and
 * the Cognito user; it decrypts nothing). `DELETE /api/account` erases everything of the caller.
 */
export const accountRoutes = [{ method: "DELETE", resource: "/api/account" }] as const;

/** `"METHOD /resource"` of each account route. */
export type AccountRouteKey = RouteOf<(typeof accountRoutes)[number]>;

/** Records per page of `GET /api/export` (at most; the default): a buffered answer stays far below 6 MB. */
export const exportPageLimit = 50;

/**
 * Images listed per record in a page of `GET /api/export` (the oldest first); a record with more says
 * how many were left out (`imagesOmitted`), and `GET /api/records/{id}/images` lists them all. With the
 * page limit this keeps a page's answer a few hundred kilobytes, whatever the number of images.
 */
export const exportImagesPerRecord = 100;

/**
 * The images API: served by the images functions, not the records function. The download streams
 * (API Gateway `responseTransferMode: STREAM`, Lambda response streaming): images are larger than the
 * 6 MB buffered Lambda payload and the 10 MB API Gateway response limit.
 */
export const imageRoutes = [
  { method: "POST", resource: "/api/records/{id}/images", transfer: "BUFFERED" },
  { method: "GET", resource: "/api/records/{id}/images", transfer: "BUFFERED" },
  { method: "GET", resource: "/api/records/{id}/images/{imageId}", transfer: "STREAM" },
] as const;

/** `"METHOD /resource"` of each image route. */
export type ImageRouteKey = RouteOf<(typeof imageRoutes)[number]>;

/** What an image upload may be: the types the ingest recognises by their magic bytes, and the size. */
export const imageLimits = {
  contentTypes: ["image/jpeg", "image/png", "image/webp", "application/pdf"],
  /** 25 MiB of plaintext (before encryption). */
  maxBytes: 25 * 1024 * 1024,
  /** Lifetime of a presigned upload URL. */
  uploadUrlSeconds: 300,
} as const;

export type ImageContentType = (typeof imageLimits.contentTypes)[number];

/**
 * Key prefixes of the two image buckets (`<prefix><owner>/<record>/<image>`, `@veil/storage`): the
 * ingest's S3 notification filters on the inbox one, and each function's S3 rights are scoped to one.
 */
export const imageObjectPrefixes = { inbox: "inbox/", images: "images/" } as const;

/** Status of an image: `pending` until the ingest ran, then `ready` or `rejected` (with a reason). */
export type ImageStatus = "pending" | "ready" | "rejected";

/**
 * Why the ingest refused an upload, as shown to the owner: `tooLarge` (over `maxBytes` or the declared
 * size), `unsupportedType` (not one of `contentTypes` by its bytes), `typeMismatch` (bytes of another
 * type than declared), `corrupt` (the file's structure is broken), `undecryptable` (not an upload
 * encrypted for this image with the current key), `expired` (uploaded after the URL expired).
 */
export type ImageRejectReason =
  | "tooLarge"
  | "unsupportedType"
  | "typeMismatch"
  | "corrupt"
  | "undecryptable"
  | "expired";
