/**
 * The static web app: uploaded file by file from the built folder into the private web bucket that
 * CloudFront reads through origin access control (cdn.ts).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { webContentTypes } from "@veil/core";
import type { Ctx } from "./context.ts";

/** Uploads the built web app, when there is one (the pipeline builds it before deploying). */
export function uploadWeb(ctx: Ctx, bucket: aws.s3.Bucket, dist: string): void {
  if (!existsSync(dist)) return;
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const path = join(dir, n);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  for (const file of walk(dist)) {
    const key = relative(dist, file).split("\\").join("/");
    new aws.s3.BucketObjectv2(
      `Web:${key}`,
      {
        bucket: bucket.id,
        key,
        source: new $util.asset.FileAsset(file),
        contentType: webContentTypes[extname(file)] ?? "application/octet-stream",
        cacheControl: key === "index.html" ? "no-cache" : "public, max-age=31536000, immutable",
      },
      { provider: ctx.home },
    );
  }
}
