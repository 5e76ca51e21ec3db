/**
 * CloudFront Functions (viewer request), run locally from the same source the distribution deploys:
 * the API behaviour's body guard (`bodyGuardFunctionCode` of @veil/core), which also sets the viewer
 * host header the functions check proofs against. The event and the generated
 * response have CloudFront Functions' shapes (`headers: { name: { value } }`, `statusCode`).
 */
import type { IncomingMessage } from "node:http";

export interface ViewerFunctionRequest {
  readonly method: string;
  readonly uri: string;
  readonly headers: Record<string, ViewerHeader>;
}

/** A header as CloudFront Functions present it: the first value, and every value when repeated. */
export interface ViewerHeader {
  readonly value: string;
  readonly multiValue?: readonly { readonly value: string }[];
}

export interface ViewerFunctionResponse {
  readonly statusCode: number;
  readonly statusDescription?: string;
  readonly headers?: Record<string, { value: string }>;
  readonly body?: string | { encoding: "text" | "base64"; data: string };
}

/** Runs the function on one request; `requestId` is CloudFront's id of it (`event.context.requestId`). */
export type ViewerFunction = (
  request: ViewerFunctionRequest,
  requestId: string,
) => ViewerFunctionRequest | ViewerFunctionResponse;

/** Compiles CloudFront Function source (a top-level `handler(event)`) into a callable. */
export function loadViewerFunction(code: string): ViewerFunction {
  const handler = new Function(`${code}\nreturn handler;`)() as (event: unknown) => unknown;
  return (request, requestId) =>
    handler({
      version: "1.0",
      context: { eventType: "viewer-request", requestId },
      viewer: { ip: "127.0.0.1" },
      request: { ...request, querystring: {}, cookies: {} },
    }) as ViewerFunctionRequest | ViewerFunctionResponse;
}

/** The viewer request as a CloudFront Function sees it (`value` first, `multiValue` when repeated). */
export function viewerRequest(req: IncomingMessage): ViewerFunctionRequest {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] as string).toLowerCase();
    values.set(name, [...(values.get(name) ?? []), req.rawHeaders[i + 1] as string]);
  }
  const headers: Record<string, ViewerHeader> = {};
  for (const [name, all] of values) {
    headers[name] = {
      value: all[0] as string,
      ...(all.length > 1 ? { multiValue: all.map((value) => ({ value })) } : {}),
    };
  }
  return { method: req.method ?? "GET", uri: (req.url ?? "/").split("?")[0] ?? "/", headers };
}

/** Whether a viewer function answered itself instead of passing the request on. */
export function isGenerated(r: ViewerFunctionRequest | ViewerFunctionResponse): r is ViewerFunctionResponse {
  return "statusCode" in r;
}

/**
 * The headers of the request a viewer function passed on, as raw header pairs: what CloudFront forwards
 * is the request as the function left it (e.g. the viewer host header it sets), not as the viewer sent it.
 */
export function rawHeadersOf(request: ViewerFunctionRequest): string[] {
  const out: string[] = [];
  for (const [name, header] of Object.entries(request.headers)) {
    for (const { value } of header.multiValue ?? [header]) out.push(name, value);
  }
  return out;
}
