/**
 * `GET /api/records/{id}/images/{imageId}` — streams the owner's decrypted image (Lambda response
 * streaming behind API Gateway's `responseTransferMode: STREAM`): images are up to 25 MiB, beyond the
 * 6 MB buffered Lambda payload and the 10 MB API Gateway response. The image leaves sealed to the
 * caller's browser (one Encryption SDK message, `application/vnd.veil.sealed`, the image type in
 * `x-veil-sealed-type`, no `content-length`). Memory stays constant: one Encryption SDK frame (64 KiB)
 * at a time from S3, decrypted, sealed and sent.
 *
 * The download is on the audit trail before any byte leaves. The first frame is authenticated before
 * the status line is sent, so a replaced or garbled object fails cleanly with a JSON error
 * (`ImageIntegrityError`); damage further in aborts the response — the client sees a connection
 * reset and a sealed message without its final frame, which it refuses: never a complete-looking file.
 */
import type { Duplex, Writable } from "node:stream";
import { headers as headerNames, isCanonicalId } from "@veil/core";
import type { EnvelopeCrypto } from "@veil/crypto";
import { audit, images } from "@veil/db";
import { createLogger } from "@veil/log";
import { imageEnvelopeContext, imageKey, type ObjectStore } from "@veil/storage";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { envelope, objectStore, once } from "../images/deps.ts";
import type { VerifyCaller } from "../shared/auth.ts";
import { linkedCallerVerifier } from "../shared/caller.ts";
import { databasePool, type Pool } from "../shared/database.ts";
import { HttpError, toImageHttpError } from "../shared/errors.ts";
import { errorResponse } from "../shared/http.ts";
import { linked } from "../shared/resources.ts";
import { type AnswerSealer, answerSealer } from "../shared/sealing.ts";
import { sealInto } from "./sealed-stream.ts";

const logger = createLogger({ serviceName: "veil-images-download" });

/** What the download needs. */
export interface DownloadDeps {
  readonly pool: Pool;
  readonly store: ObjectStore;
  readonly envelope: EnvelopeCrypto;
  readonly verifyCaller: VerifyCaller;
  readonly sealer: AnswerSealer;
  readonly imagesBucket: string;
}

/** The part of Lambda's `awslambda` global used for response streaming. */
export interface ResponseStreaming {
  streamifyResponse(
    handler: (event: APIGatewayProxyEvent, responseStream: Writable, context: Context) => Promise<void>,
  ): unknown;
  HttpResponseStream: {
    from(stream: Writable, metadata: { statusCode: number; headers?: Record<string, string> }): Writable;
  };
}

const route = "GET /api/records/{id}/images/{imageId}";
const extensions: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "application/pdf": "pdf",
};

function end(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.end(resolve));
}

/**
 * Serves one download into a Lambda response stream. Never throws: every failure becomes an HTTP error
 * (before the status line) or an aborted stream (after it), and one log line.
 */
export async function serveDownload(
  streaming: ResponseStreaming,
  deps: DownloadDeps | (() => Promise<DownloadDeps>),
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context: Pick<Context, "awsRequestId">,
): Promise<void> {
  const requestId = event.requestContext?.requestId ?? context.awsRequestId;
  const started = Date.now();
  let status = 200;
  let failure: string | undefined;
  let body: AsyncIterator<Buffer> | undefined;
  let destroyBody: (() => void) | undefined;
  let first: IteratorResult<Buffer> | undefined;
  let size = 0;
  let contentType = "application/octet-stream";
  let seal: { readonly stream: Duplex; readonly headers: Record<string, string> } | undefined;
  let imageId = "";
  try {
    if (`${event.httpMethod} ${event.resource}` !== route)
      throw new HttpError(404, "NotFound", "No such route");
    const d = typeof deps === "function" ? await deps() : deps;
    const caller = await d.verifyCaller(event);
    const { id: pathRecordId, imageId: pathImageId } = event.pathParameters ?? {};
    // Other spellings of an id name no image: 404 before any lookup, key or context is built from them.
    if (!isCanonicalId(pathRecordId) || !isCanonicalId(pathImageId))
      throw new HttpError(404, "NotFound", "No such image");
    const row = await images.get(d.pool, caller.sub, pathRecordId, pathImageId);
    // From here on, the ids as stored: the audit entry, the object key and the encryption context.
    const { recordId } = row;
    imageId = row.id;
    if (row.status !== "ready" || row.size === null) {
      throw new HttpError(
        409,
        "ImageNotReady",
        `The image is ${row.status}${row.reason ? ` (${row.reason})` : ""}`,
      );
    }
    // On the trail before any plaintext leaves: if the audit write fails, nothing is sent.
    await audit.append(d.pool, {
      ownerId: caller.sub,
      actor: caller.sub,
      action: "image.download",
      recordId,
      requestId,
    });
    const ids = { ownerId: caller.sub, recordId, imageId };
    const object = await d.store.open({ bucket: d.imagesBucket, key: imageKey(ids) });
    const plaintext = d.envelope.decryptStream(object.body, imageEnvelopeContext(ids));
    destroyBody = () => plaintext.destroy();
    body = plaintext[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    // The header, the data key and the first frame are checked before anything is sent.
    first = await body.next();
    // The caller's key is checked here too: a refused key is a clean error, not an aborted stream.
    seal = await d.sealer.sealStream(caller, row.contentType);
    size = row.size;
    contentType = row.contentType;
  } catch (err) {
    destroyBody?.();
    const httpError = toImageHttpError(err);
    status = httpError.status;
    failure =
      err instanceof Error ? `${err.name}${"reason" in err ? `:${String(err.reason)}` : ""}` : "unknown";
    const result = errorResponse(httpError, requestId);
    const out = streaming.HttpResponseStream.from(responseStream, {
      statusCode: result.statusCode,
      headers: result.headers as Record<string, string>,
    });
    out.write(result.body);
    await end(out);
    log(status, failure);
    return;
  }

  const out = streaming.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: {
      ...seal.headers,
      "content-disposition": `attachment; filename="${imageId}.${extensions[contentType] ?? "bin"}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      [headerNames.requestId]: requestId,
    },
  });
  try {
    await sealInto(first, body, seal.stream, out);
    await end(out);
  } catch (err) {
    // Too late for a status: abort, so the client never takes a partial file for a whole one.
    destroyBody?.();
    failure =
      err instanceof Error ? `${err.name}${"reason" in err ? `:${String(err.reason)}` : ""}` : "unknown";
    status = 502;
    responseStream.destroy(new Error("download aborted"));
  }
  log(status, failure);

  function log(code: number, error: string | undefined) {
    const line = { route, status: code, ms: Date.now() - started, requestId, imageId };
    if (code >= 500) logger.error("download failed", { ...line, error });
    else if (error) logger.warn("download refused", { ...line, error });
    else logger.info("download", { ...line, bytes: size });
  }
}

const deps = once(async (): Promise<DownloadDeps> => {
  const pool = await databasePool();
  return {
    pool,
    store: objectStore(),
    envelope: envelope(),
    verifyCaller: linkedCallerVerifier(pool),
    sealer: answerSealer,
    imagesBucket: linked("ImagesBucket").name,
  };
});

const streaming = (globalThis as { awslambda?: ResponseStreaming }).awslambda;

/** The Lambda entry point (response streaming). Needs the runtime's `awslambda` global. */
export const handler = streaming
  ? streaming.streamifyResponse((event, responseStream, context) =>
      serveDownload(streaming, deps, event, responseStream, context),
    )
  : () => {
      throw new Error("this handler needs Lambda response streaming (the awslambda global)");
    };
