import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { apiPrefix, bodyGuardFunctionCode, fleContentType, isFleField } from "@veil/core";
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse } from "aws-lambda";
import { listen } from "../net.ts";
import { checkFleLimits } from "./fle-limits.ts";
import { type ApiOrigin, buildOriginRequestEvent, newCloudFrontId } from "./origin-event.ts";
import { serveStatic } from "./static-site.ts";
import {
  isGenerated,
  loadViewerFunction,
  rawHeadersOf,
  type ViewerFunctionResponse,
  viewerRequest,
} from "./viewer-function.ts";

/** The origin-request Lambda@Edge function, called exactly as CloudFront calls it. */
export type OriginRequestFunction = (
  event: CloudFrontRequestEvent,
) => Promise<CloudFrontRequest | CloudFrontResultResponse>;

export interface LocalCloudFrontOptions {
  readonly port?: number;
  readonly host?: string;
  /** Folder of the built web app; non-API paths are served from it. */
  readonly webRoot?: string;
  /** The API origin; a function so a rotated API key (origin custom header) takes effect at once. */
  readonly origin: () => ApiOrigin;
  /** The edge signer. */
  readonly originRequest: OriginRequestFunction;
  /** Encrypts the FLE fields of a url-encoded body with the distribution's FLE public key. */
  readonly encryptForm: (body: string) => Promise<string>;
  /** Response headers policy, added to every response. */
  readonly responseHeaders: Record<string, string>;
  /** Largest viewer body accepted at all (CloudFront itself allows more; API Gateway stops at 10 MB). */
  readonly maxBodyBytes?: number;
  readonly distributionId?: string;
  /**
   * Served at `/config.json`: the web app's runtime configuration (Cognito pool, client, endpoint). In
   * AWS the deploy writes the same file next to the static site.
   */
  readonly runtimeConfig?: () => unknown;
  /** Called with one line per request for the access log (no bodies, no query strings). */
  readonly accessLog?: (entry: Record<string, unknown>) => void;
}

export interface LocalCloudFront {
  readonly url: string;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

/**
 * Starts the local CloudFront: the only entry point of the local stack. Non-API paths serve the web
 * build; `/api/*` gets the body guard (the deployed viewer-request function's own source), field-level
 * encryption (POST bodies of exactly `application/x-www-form-urlencoded` only: the strictest reading of
 * CloudFront's content-type match), the origin-request edge function, the API key origin header, and is
 * forwarded to the API origin.
 */
export async function startLocalCloudFront(options: LocalCloudFrontOptions): Promise<LocalCloudFront> {
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const distributionId = options.distributionId ?? "ELOCALVEIL0001";
  const bodyGuard = loadViewerFunction(bodyGuardFunctionCode());
  let domain = "localhost";

  const server: Server = createServer((req, res) => {
    const cfId = newCloudFrontId();
    const started = Date.now();
    const headers = { ...options.responseHeaders, "x-amz-cf-id": cfId, "x-amz-cf-pop": "LOCAL" };
    res.on("finish", () =>
      options.accessLog?.({
        cfId,
        method: req.method,
        path: (req.url ?? "/").split("?")[0],
        status: res.statusCode,
        ms: Date.now() - started,
      }),
    );
    const path = req.url ?? "/";
    const handle = path.startsWith(apiPrefix)
      ? forwardApi(req, res, headers, cfId)
      : path.split("?")[0] === "/config.json" && options.runtimeConfig
        ? Promise.resolve(
            sendJson(res, 200, { ...headers, "cache-control": "no-cache" }, options.runtimeConfig()),
          )
        : options.webRoot
          ? serveStatic(options.webRoot, path, res, headers)
          : Promise.resolve(sendText(res, 404, headers, "The web app is not built."));
    handle.catch((err: unknown) => {
      options.accessLog?.({
        cfId,
        error: err instanceof Error ? `${err.name}: ${(err as NodeJS.ErrnoException).code ?? ""}` : "unknown",
      });
      const status = err instanceof HttpError ? err.status : 502;
      const code = err instanceof HttpError ? err.code : "OriginError";
      if (!res.headersSent)
        sendJson(
          res,
          status,
          { ...headers, "x-cache": "Error from cloudfront" },
          { message: code, requestId: cfId },
        );
      else res.destroy();
    });
  });

  async function forwardApi(
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
    cfId: string,
  ) {
    const method = req.method ?? "GET";
    const guarded = bodyGuard(viewerRequest(req), cfId);
    let body = await readBody(req, maxBody);
    if (isGenerated(guarded)) return sendViewerResponse(res, guarded, headers);
    if (method === "POST" && req.headers["content-type"] === fleContentType) {
      const limit = checkFleLimits(body, isFleField);
      if (limit) throw new HttpError(400, limit);
      // A body FLE cannot parse (bad percent-encoding, duplicate fields) is the viewer's error, not the origin's.
      const encrypted = await options.encryptForm(body.toString("latin1")).catch(() => undefined);
      if (encrypted === undefined) throw new HttpError(400, "MalformedFormClientError");
      body = Buffer.from(encrypted, "latin1");
    }
    const origin = options.origin();
    const [uri = "/", querystring = ""] = splitOnce(req.url ?? "/", "?");
    // The request as the viewer function left it (it sets the viewer host header).
    const rawHeaders = withoutContentLength(rawHeadersOf(guarded));
    const event = buildOriginRequestEvent({
      method,
      uri,
      querystring,
      rawHeaders,
      clientIp: req.socket.remoteAddress ?? "127.0.0.1",
      body,
      origin,
      distributionDomainName: domain,
      distributionId,
      requestId: cfId,
    });
    const result = await options.originRequest(event);
    if ("status" in result) return sendGenerated(res, result, headers);
    if (result.body?.action === "replace")
      body = Buffer.from(result.body.data, result.body.encoding === "base64" ? "base64" : "utf8");
    await proxy(result, origin, body, req, res, headers, cfId);
  }

  // Idle viewer connections stay open longer than any client keeps them (undici: 4 s), so the client
  // always retires an idle connection first: a request written just as the server timed the connection
  // out would otherwise be reset unanswered (seen when the test process stalls in CPU-bound work).
  server.keepAliveTimeout = 65_000;
  await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const { port } = server.address() as AddressInfo;
  domain = `localhost:${port}`;
  return {
    url: `http://localhost:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends the signed request on to the API origin, adding what CloudFront adds after the function. */
function proxy(
  request: CloudFrontRequest,
  origin: ApiOrigin,
  body: Buffer,
  viewer: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
  cfId: string,
): Promise<void> {
  const out: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(request.headers)) {
    out[name] = values.length === 1 ? (values[0]?.value ?? "") : values.map((v) => v.value);
  }
  for (const [name, value] of Object.entries(origin.customHeaders)) out[name.toLowerCase()] = value;
  // The host the edge signed; CloudFront sends the origin's host.
  out.host ??= origin.domainName;
  out.via = "1.1 local.cloudfront.net (CloudFront)";
  out["x-forwarded-for"] = viewer.socket.remoteAddress ?? "127.0.0.1";
  out["x-amz-cf-id"] = cfId;
  out["content-length"] = String(body.length);
  const [hostname, port] = splitOnce(origin.domainName, ":");
  const send = origin.protocol === "https" ? httpsRequest : httpRequest;
  const path = `${origin.path}${request.uri}${request.querystring ? `?${request.querystring}` : ""}`;
  return new Promise((resolve, reject) => {
    const upstream = send(
      { hostname, port: port ? Number(port) : origin.port, method: request.method, path, headers: out },
      (up) => {
        const h: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && k !== "connection") h[k] = v;
        res.writeHead(up.statusCode ?? 502, { ...h, ...headers });
        up.pipe(res);
        up.on("end", resolve);
        up.on("error", reject);
      },
    );
    upstream.setTimeout(30_000, () => upstream.destroy(new HttpError(504, "OriginReadTimeout")));
    upstream.on("error", (err) =>
      reject(err instanceof HttpError ? err : new HttpError(502, "OriginConnectError")),
    );
    upstream.end(body);
  });
}

function sendViewerResponse(res: ServerResponse, r: ViewerFunctionResponse, headers: Record<string, string>) {
  const h: Record<string, string> = {};
  for (const [name, v] of Object.entries(r.headers ?? {})) h[name] = v.value;
  const data = typeof r.body === "string" ? r.body : (r.body?.data ?? "");
  const body = Buffer.from(
    data,
    typeof r.body === "object" && r.body.encoding === "base64" ? "base64" : "utf8",
  );
  res.writeHead(r.statusCode, { ...h, ...headers, "content-length": body.length });
  res.end(body);
}

function sendGenerated(res: ServerResponse, r: CloudFrontResultResponse, headers: Record<string, string>) {
  const h: Record<string, string> = {};
  for (const [name, values] of Object.entries(r.headers ?? {})) {
    const first = values[0];
    if (first) h[name] = first.value;
  }
  const body = r.body
    ? Buffer.from(r.body, r.bodyEncoding === "base64" ? "base64" : "utf8")
    : Buffer.alloc(0);
  res.writeHead(Number(r.status), { ...h, ...headers, "content-length": body.length });
  res.end(body);
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.destroy();
        reject(new HttpError(413, "RequestEntityTooLarge"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", () => reject(new HttpError(400, "BadRequest")));
  });
}

function withoutContentLength(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() === "content-length") continue;
    out.push(raw[i] as string, raw[i + 1] as string);
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, headers: Record<string, string>, body: string) {
  res.writeHead(status, {
    ...headers,
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
