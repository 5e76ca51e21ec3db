/**
 * The static web app: uploaded file by file from the built folder into the private web bucket that
 * CloudFront reads through origin access control (cdn.ts), and its runtime config, `/config.json`.
 */
import { createHash, createPublicKey } from "node:crypto";
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

/** What the web app reads from `/config.json` at start (web/src/config.ts `RuntimeConfig`). */
export interface RuntimeConfigInputs {
  readonly userPoolId: $util.Input<string>;
  readonly userPoolClientId: $util.Input<string>;
  /** The inbox bucket's name: presigned upload PUTs go to its regional origin only. */
  readonly inboxBucket: $util.Input<string>;
  /** The FLE public key (PEM) uploads are encrypted to: the app refuses an upload ticket with another. */
  readonly uploadPublicKeyPem: $util.Input<string>;
}

/** The SHA-256 (base64url) of a PEM public key's DER SubjectPublicKeyInfo: the web app pins it. */
export function spkiSha256(pem: string): string {
  return createHash("sha256")
    .update(createPublicKey(pem).export({ type: "spki", format: "der" }))
    .digest("base64url");
}

/**
 * Writes `/config.json` beside the app: the Cognito pool and client (SRP sign-in), the upload origins
 * and the pinned upload key. Written at every deploy, never cached, so it follows the resources.
 */
export function writeRuntimeConfig(ctx: Ctx, bucket: aws.s3.Bucket, inputs: RuntimeConfigInputs): void {
  const content = $util
    .all([inputs.userPoolId, inputs.userPoolClientId, inputs.inboxBucket, inputs.uploadPublicKeyPem])
    .apply(([userPoolId, userPoolClientId, inbox, pem]) =>
      JSON.stringify({
        region: ctx.homeRegion,
        stage: ctx.stageName,
        cognito: { userPoolId, userPoolClientId, authFlow: "USER_SRP_AUTH" },
        uploadOrigins: [`https://${inbox}.s3.${ctx.homeRegion}.amazonaws.com`],
        uploadKeySha256: [spkiSha256(pem)],
      }),
    );
  new aws.s3.BucketObjectv2(
    "WebRuntimeConfig",
    {
      bucket: bucket.id,
      key: "config.json",
      content,
      contentType: "application/json",
      cacheControl: "no-cache",
    },
    { provider: ctx.home },
  );
}
