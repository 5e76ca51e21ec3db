import { mkdirSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, PutBucketVersioningCommand } from "@aws-sdk/client-s3";
import { createObjectStore, inboxPrefix, type ObjectStore } from "@veil/storage";
import { startTestS3rver } from "@veil/storage/testing";
import type { S3EventRecord } from "aws-lambda";
import { objectCreatedRecord } from "./event.ts";
import { startS3Front } from "./front.ts";

/** An S3-compatible server started elsewhere (e.g. a test Swift), used instead of the embedded s3rver. */
export interface ExternalS3 {
  readonly endpoint: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Where it keeps its data, if on this machine (canary scans). */
  readonly dataDir?: string;
}

export interface LocalS3Options {
  /** Port of the S3 endpoint (the front). */
  readonly port: number;
  readonly region: string;
  readonly stage: string;
  /** The embedded s3rver's folder. */
  readonly dataDir: string;
  readonly external?: ExternalS3;
  /** Browser origins allowed to upload (the inbox bucket's CORS rule in AWS). */
  readonly allowedOrigins: readonly string[];
  /** Called with the S3 event record of each new upload in the inbox. */
  readonly onObjectCreated: (record: S3EventRecord) => void;
}

/** How tools reach the local S3 (written to `<stateDir>/s3.json`, mode 0600). */
export interface LocalS3Info {
  readonly endpoint: string;
  readonly region: string;
  readonly buckets: { readonly inbox: string; readonly images: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** False on the embedded s3rver: no versions, so nothing to restore. */
  readonly versioned: boolean;
  readonly dataDir: string | null;
}

export interface LocalS3 {
  readonly info: LocalS3Info;
  /** A store on the S3 endpoint with the stack's S3 credentials. */
  readonly store: ObjectStore;
  stop(): Promise<void>;
}

/**
 * Starts the local S3: the embedded s3rver (or an external server such as Swift), the S3 front with
 * event notifications and CORS, and the two buckets — versioning enabled where the server has it, as
 * on AWS.
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    let backend: ExternalS3;
    if (options.external) {
      backend = options.external;
    } else {
      mkdirSync(options.dataDir, { recursive: true });
      const s3rver = await startTestS3rver({ dataDir: options.dataDir });
      stops.push(() => s3rver.stop());
      backend = { endpoint: s3rver.endpoint, credentials: s3rver.credentials, dataDir: options.dataDir };
    }
    const buckets = { inbox: `veil-${options.stage}-inbox`, images: `veil-${options.stage}-images` };
    const direct = createObjectStore({
      region: options.region,
      endpoint: backend.endpoint,
      credentials: backend.credentials,
    });
    let versioned = true;
    for (const bucket of Object.values(buckets)) {
      await direct.client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: unknown) => {
        const name = (err as { name?: string }).name ?? "";
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(name)) throw err;
      });
      const enabled = await direct.client
        .send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
        )
        .then(
          () => true,
          () => false,
        );
      versioned &&= enabled;
    }

    let store: ObjectStore | undefined;
    const front = await startS3Front({
      port: options.port,
      upstream: backend.endpoint,
      allowedOrigins: options.allowedOrigins,
      watch: { bucket: buckets.inbox, prefix: inboxPrefix },
      onCreated: (object) => {
        const send = (size: number) =>
          options.onObjectCreated(
            objectCreatedRecord(
              { ...object, size },
              { region: options.region, configurationId: "veil-inbox-ingest" },
            ),
          );
        if (object.size !== undefined) return send(object.size);
        store
          ?.head(
            { bucket: object.bucket, key: object.key },
            object.versionId ? { versionId: object.versionId } : {},
          )
          .then((head) => head && send(head.size))
          .catch(() => undefined);
      },
    });
    stops.push(() => front.stop());
    store = createObjectStore({
      region: options.region,
      endpoint: front.endpoint,
      credentials: backend.credentials,
    });
    const info: LocalS3Info = {
      endpoint: front.endpoint,
      region: options.region,
      buckets,
      credentials: backend.credentials,
      versioned,
      dataDir: backend.dataDir ?? null,
    };
    return { info, store, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Writes `s3.json` atomically. */
export async function writeS3Info(stateDir: string, info: LocalS3Info): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, "s3.json");
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Reads `s3.json` of a state folder. */
export async function readS3Info(stateDir: string): Promise<LocalS3Info> {
  return JSON.parse(await readFile(join(stateDir, "s3.json"), "utf8")) as LocalS3Info;
}
