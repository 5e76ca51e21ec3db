/**
 * The buffered image routes (API Gateway REST, proxy integration):
 * - `POST /api/records/{id}/images` — announces an upload (`contentType`, `size` in a url-encoded form)
 *   and answers a presigned PUT for the owner's inbox key, signed for the exact encrypted length, with
 *   the FLE public key and the encryption parameters the browser must use;
 * - `GET /api/records/{id}/images` — the record's images with their status (pending, ready, rejected
 *   with a reason code).
 * No image byte passes here; the download streams from its own function (`images-download/handler.ts`).
 */
import { randomUUID } from "node:crypto";
import { type ImageContentType, type ImageRouteKey, imageLimits, isCanonicalId } from "@veil/core";
import { images, records } from "@veil/db";
import { createLogger } from "@veil/log";
import {
  inboxKey,
  uploadCiphertextLength,
  uploadEncryptionContext,
  uploadFrameLength,
  uploadSuiteId,
} from "@veil/storage";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { objectStore, once, uploadPublicKey } from "../images/deps.ts";
import { imageView } from "../images/view.ts";
import { type ApiRoute, type ApiRouteInput, createApiHandler } from "../shared/api-handler.ts";
import { linkedCallerVerifier } from "../shared/caller.ts";
import { databasePool } from "../shared/database.ts";
import { HttpError, toImageHttpError } from "../shared/errors.ts";
import { json, requireFormBody } from "../shared/http.ts";
import { linked } from "../shared/resources.ts";
import { answerSealer } from "../shared/sealing.ts";

const logger = createLogger({ serviceName: "veil-images-api" });

const deps = once(async () => {
  const pool = await databasePool();
  return {
    pool,
    store: objectStore(),
    verifyCaller: linkedCallerVerifier(pool),
    sealer: answerSealer,
    publicKey: uploadPublicKey(),
    inboxBucket: linked("InboxBucket").name,
  };
});
export type ImagesApiDeps = Awaited<ReturnType<typeof deps>>;

type RouteInput = ApiRouteInput<ImagesApiDeps>;

/** The path's `{id}` in its one spelling (`isCanonicalId`), else 404 before anything is signed or read. */
function recordId(event: APIGatewayProxyEvent): string {
  const id = event.pathParameters?.id;
  if (!isCanonicalId(id)) throw new HttpError(404, "NotFound", "No such record");
  return id;
}

function readAnnouncement(event: APIGatewayProxyEvent): { contentType: ImageContentType; size: number } {
  const form = new URLSearchParams(requireFormBody(event));
  const contentType = form.get("contentType") ?? "";
  const sizeText = form.get("size") ?? "";
  const issues: { field: string; code: string; message: string }[] = [];
  if (!(imageLimits.contentTypes as readonly string[]).includes(contentType)) {
    issues.push({
      field: "contentType",
      code: "invalid",
      message: `One of ${imageLimits.contentTypes.join(", ")}`,
    });
  }
  const size = /^\d{1,12}$/.test(sizeText) ? Number(sizeText) : Number.NaN;
  if (!Number.isSafeInteger(size) || size < 1) {
    issues.push({ field: "size", code: "invalid", message: "The file's size in bytes" });
  }
  if (issues.length > 0) throw new HttpError(400, "ValidationError", "Some fields are invalid", issues);
  if (size > imageLimits.maxBytes) {
    throw new HttpError(
      413,
      "ImageTooLarge",
      `Images may be at most ${imageLimits.maxBytes} bytes (25 MiB)`,
      [{ field: "size", code: "tooLarge", message: `At most ${imageLimits.maxBytes} bytes` }],
    );
  }
  return { contentType: contentType as ImageContentType, size };
}

/** POST /api/records/{id}/images — a pending image and its short-lived upload URL. */
export async function createUpload({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const id = recordId(event);
  const { contentType, size } = readAnnouncement(event);
  const imageId = randomUUID();
  // Fails as "no such record" for another owner's record, before anything is signed. The storage key
  // is built from the id as stored.
  const record = await records.get(deps.pool, caller.sub, id);
  const ids = { ownerId: caller.sub, recordId: record.id, imageId };
  const context = uploadEncryptionContext(imageId);
  const { pem, providerId, keyName, modulusBytes } = deps.publicKey;
  const contentLength = uploadCiphertextLength(size, { providerId, keyName, modulusBytes, context });
  const presigned = await deps.store.presignPut(
    { bucket: deps.inboxBucket, key: inboxKey(ids) },
    { expiresInSeconds: imageLimits.uploadUrlSeconds, contentLength },
  );
  const row = await images.createPending(deps.pool, {
    id: imageId,
    ownerId: caller.sub,
    recordId: ids.recordId,
    contentType,
    declaredSize: size,
    uploadExpiresAt: presigned.expiresAt,
  });
  return json(
    201,
    {
      ...imageView(row),
      imageId,
      uploadUrl: presigned.url,
      uploadMethod: "PUT",
      uploadHeaders: presigned.headers,
      expiresAt: presigned.expiresAt.toISOString(),
      publicKey: { pem, providerId, keyName },
      encryption: {
        format: "aws-encryption-sdk-message-v1",
        algorithmSuiteId: uploadSuiteId,
        frameLength: uploadFrameLength,
        encryptionContext: context,
        contentLength,
      },
    },
    requestId,
    { location: `/api/records/${ids.recordId}/images/${imageId}` },
  );
}

/** GET /api/records/{id}/images — the record's images, oldest first. */
export async function listImages({
  deps,
  caller,
  event,
  requestId,
}: RouteInput): Promise<APIGatewayProxyResult> {
  const id = recordId(event);
  await records.get(deps.pool, caller.sub, id);
  const rows = await images.listForRecord(deps.pool, caller.sub, id);
  return json(200, { items: rows.map((row) => imageView(row)) }, requestId);
}

type Route = ApiRoute<ImagesApiDeps>;

/** The buffered image routes; the streamed download lives in `../images-download/handler.ts`. */
export const routes: Readonly<Partial<Record<ImageRouteKey, Route>>> = {
  "POST /api/records/{id}/images": createUpload,
  "GET /api/records/{id}/images": listImages,
};

/** API Gateway (REST, proxy integration) entry point of the buffered image routes. */
export const handler = createApiHandler({ routes, deps, toHttpError: toImageHttpError, logger });
