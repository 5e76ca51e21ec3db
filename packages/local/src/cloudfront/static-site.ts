import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { webContentTypes } from "@veil/core";

/**
 * Serves the web build like the S3 static-site origin with an SPA fallback: unknown paths without a
 * file extension get `index.html`. Paths never escape `root`.
 */
export async function serveStatic(
  root: string,
  urlPath: string,
  res: ServerResponse,
  extraHeaders: Record<string, string>,
) {
  let rel: string;
  try {
    rel = normalize(decodeURIComponent(urlPath.split("?")[0] ?? "/")).replace(/^([/\\])+/, "");
  } catch {
    return send(res, 400, "text/plain; charset=utf-8", "Bad Request", extraHeaders);
  }
  let file = join(root, rel);
  if (!file.startsWith(root + sep) && file !== root)
    return send(res, 403, "text/plain; charset=utf-8", "Forbidden", extraHeaders);
  let info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    file = join(file, "index.html");
    info = await stat(file).catch(() => undefined);
  }
  if (!info && extname(rel) === "") {
    file = join(root, "index.html");
    info = await stat(file).catch(() => undefined);
  }
  if (!info?.isFile()) return send(res, 404, "text/plain; charset=utf-8", "Not Found", extraHeaders);
  const immutable = /[.-][A-Za-z0-9_-]{8,}\.(js|css|woff2|svg|png|webp)$/.test(file);
  res.writeHead(200, {
    ...extraHeaders,
    "content-type": webContentTypes[extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  createReadStream(file).pipe(res);
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  extra: Record<string, string>,
) {
  res.writeHead(status, { ...extra, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
