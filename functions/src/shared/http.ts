import { headers as headerNames } from "@veil/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { HttpError } from "./errors.ts";

const baseHeaders = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
};

/** A JSON response that carries the request id. */
export function json(
  status: number,
  body: unknown,
  requestId: string,
  extra: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...baseHeaders, [headerNames.requestId]: requestId, ...extra },
    body: JSON.stringify(body),
  };
}

/** An error response: a stable code, a generic message, the request id — never a stack or a value. */
export function errorResponse(err: HttpError, requestId: string): APIGatewayProxyResult {
  const body: Record<string, unknown> = { error: err.code, message: err.message, requestId };
  if (err.details !== undefined) body.details = err.details;
  return json(
    err.status,
    body,
    requestId,
    err.retryAfterSeconds ? { "retry-after": String(err.retryAfterSeconds) } : {},
  );
}

/** Case-insensitive header lookup on an API Gateway event. */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (k.toLowerCase() === wanted && v !== undefined) return v;
  return undefined;
}

/** The raw request body as text (API Gateway base64-encodes binary media types). */
export function bodyText(event: APIGatewayProxyEvent): string {
  if (!event.body) return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("latin1") : event.body;
}

/** Accepts only url-encoded bodies for writes: JSON would bypass CloudFront's field-level encryption. */
export function requireFormBody(event: APIGatewayProxyEvent): string {
  const type = (header(event, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "UnsupportedMediaType", "Send the record as application/x-www-form-urlencoded");
  }
  return bodyText(event);
}
