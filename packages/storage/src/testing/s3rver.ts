/// <reference path="./s3rver-module.d.ts" />
/**
 * s3rver (npm, in-process): the zero-setup S3 stand-in of tests and of the local stack (with a
 * `dataDir` it keeps). It has no versioning and checks no SigV4 signature; use `startTestSwift` for
 * those. Dev and test only.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

/** A running s3rver. */
export interface TestS3rver {
  readonly endpoint: string;
  readonly region: string;
  /** s3rver knows one key pair. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The folder its objects live in (for canary scans). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Starts s3rver on a free port of 127.0.0.1 with the given buckets, in a new temporary folder. */
export async function startTestS3rver(
  options: { buckets?: readonly string[]; dataDir?: string } = {},
): Promise<TestS3rver> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "veil-s3rver-"));
  const owned = options.dataDir === undefined;
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dataDir,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    dataDir,
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
      if (owned) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
