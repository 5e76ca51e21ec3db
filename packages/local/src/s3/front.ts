import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { listen } from "../net.ts";
import type { CreatedObject } from "./event.ts";

/** What the S3 front calls after an object was created in the watched bucket. */
export type OnCreated = (object: Omit<CreatedObject, "size"> & { size: number | undefined }) => void;

export interface S3FrontOptions {
  readonly port?: number;
  readonly host?: string;
  /** The S3-compatible server behind (s3rver or Swift), e.g. `http://127.0.0.1:9000`. */
  readonly upstream: string;
  /** Browser origins allowed to call (CORS), like a bucket CORS configuration. */
  readonly allowedOrigins: readonly string[];
  /** The bucket and key prefix whose new objects are notified (S3 event notification filter). */
  readonly watch: { readonly bucket: string; readonly prefix: string };
  readonly onCreated: OnCreated;
}

export interface S3Front {
  readonly endpoint: string;
  stop(): Promise<void>;
}

const exposed = "ETag, x-amz-version-id, x-amz-request-id";

/**
 * The S3 endpoint of the local stack: a transparent proxy in front of the S3-compatible server that
 * adds what that server lacks and S3 has — event notifications (`s3:ObjectCreated:*` on the inbox
 * prefix, as the bucket's notification configuration does in AWS) and CORS for the browser's
 * presigned PUT. Bodies stream through; the Host header is kept, so SigV4 signatures (checked by the
 * server behind) stay valid.
 */
export async function startS3Front(options: S3FrontOptions): Promise<S3Front> {
  const upstream = new URL(options.upstream);

  function cors(req: IncomingMessage): Record<string, string> | undefined {
    const origin = req.headers.origin;
    if (!origin) return {};
    if (!options.allowedOrigins.includes(origin)) return undefined;
    return {
      "access-control-allow-origin": origin,
      "access-control-expose-headers": exposed,
      vary: "Origin",
    };
  }

  function preflight(req: IncomingMessage, res: ServerResponse): void {
    const allowed = cors(req);
    const method = String(req.headers["access-control-request-method"] ?? "");
    if (!allowed || !req.headers.origin || !["GET", "PUT", "HEAD"].includes(method)) {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(
        "<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed.</Message></Error>",
      );
      return;
    }
    res.writeHead(200, {
      ...allowed,
      "access-control-allow-methods": "GET, PUT, HEAD",
      "access-control-allow-headers": String(req.headers["access-control-request-headers"] ?? ""),
      "access-control-max-age": "600",
      "content-length": "0",
    });
    res.end();
  }

  const server = createServer((req, res) => {
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) return preflight(req, res);
    const allowed = cors(req);
    if (!allowed) {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end(
        "<Error><Code>AccessForbidden</Code><Message>CORSResponse: This origin is not allowed.</Message></Error>",
      );
      return;
    }
    const headers = { ...req.headers };
    delete headers.origin; // the CORS decision is made here
    let bytes = 0;
    const up = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (upRes) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined) out[k] = v;
        res.writeHead(upRes.statusCode ?? 502, { ...out, ...allowed });
        upRes.pipe(res);
        upRes.on("end", () => {
          if ((upRes.statusCode ?? 500) < 300) notify(req, upRes, bytes);
        });
      },
    );
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "application/xml" });
      res.end("<Error><Code>ServiceUnavailable</Code><Message>upstream unreachable</Message></Error>");
    });
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.pipe(up);
  });

  function notify(req: IncomingMessage, upRes: IncomingMessage, bytes: number): void {
    const [path = "", query = ""] = (req.url ?? "").split("?");
    const params = new URLSearchParams(query);
    const slash = path.indexOf("/", 1);
    if (slash < 0) return;
    const bucket = decodeURIComponent(path.slice(1, slash));
    let key: string;
    try {
      key = decodeURIComponent(path.slice(slash + 1));
    } catch {
      return;
    }
    if (bucket !== options.watch.bucket || !key.startsWith(options.watch.prefix)) return;
    let how: CreatedObject["how"] | undefined;
    if (req.method === "PUT" && !params.has("uploadId"))
      how = req.headers["x-amz-copy-source"] ? "Copy" : "Put";
    else if (req.method === "POST" && params.has("uploadId")) how = "CompleteMultipartUpload";
    if (!how) return;
    const versionId = upRes.headers["x-amz-version-id"];
    const eTag = upRes.headers.etag;
    options.onCreated({
      bucket,
      key,
      how,
      size: how === "Put" ? bytes : undefined,
      ...(typeof versionId === "string" && versionId !== "null" ? { versionId } : {}),
      ...(typeof eTag === "string" ? { eTag } : {}),
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
    });
  }

  await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
