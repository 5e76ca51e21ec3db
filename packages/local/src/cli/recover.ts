// `pnpm veil recover <record id> [--images] [--out <dir>]`: decrypts a record (and its images) with the
// stock Encryption SDK and KMS client, for an owner's export request when Veil itself cannot serve it.
// Locally it finds everything through .veil/; against AWS it takes the flags below and the credentials
// of whoever runs it (the recovery role). See docs/recovery.md.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { type ObjectSource, openImage, readRecord, s3Client } from "../recovery/sources.ts";
import {
  imageContext,
  recordContext,
  recoverImage,
  recoverRecord,
  recoveryKeyring,
} from "../recovery/stock-decrypt.ts";

export const recoverUsage = `usage: pnpm veil recover <record id> [--images] [--out <dir>]
  local (reads .veil/local.json):  pnpm veil recover <id> --images --out ./export
  AWS (the caller's credentials):  pnpm veil recover <id> --database-url <url> --region <region> --stage <stage>
                                     --key-arn <data key ARN> [--app veil] [--kms-endpoint <url>]
                                     [--images --bucket <images bucket> [--s3-endpoint <url>]] [--out <dir>]`;

/** The command line of `recover`, parsed. */
export interface RecoverArgs {
  readonly recordId: string;
  readonly images: boolean;
  readonly out?: string;
  readonly databaseUrl?: string;
  readonly region?: string;
  readonly stage?: string;
  readonly app?: string;
  readonly keyArn: string;
  readonly kmsEndpoint?: string;
  readonly s3Endpoint?: string;
  readonly bucket?: string;
}

const valueFlags = {
  "--out": "out",
  "--database-url": "databaseUrl",
  "--region": "region",
  "--stage": "stage",
  "--app": "app",
  "--key-arn": "keyArn",
  "--kms-endpoint": "kmsEndpoint",
  "--s3-endpoint": "s3Endpoint",
  "--bucket": "bucket",
} as const;

/** Parses `recover`'s arguments; throws a usage error naming what is wrong. */
export function parseRecoverArgs(argv: readonly string[]): RecoverArgs {
  const out: Record<string, string | boolean> = { images: false };
  let recordId: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--images") out.images = true;
    else if (arg in valueFlags) {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) throw new Error(`${arg} needs a value`);
      out[valueFlags[arg as keyof typeof valueFlags]] = value;
    } else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else if (recordId === undefined) recordId = arg;
    else throw new Error(`unexpected argument ${arg}`);
  }
  if (!recordId) throw new Error("a record id is required");
  if (out.images && !out.out) throw new Error("--images writes files: give --out <dir>");
  if (out.databaseUrl !== undefined) {
    for (const flag of ["--region", "--stage", "--key-arn"] as const) {
      if (!out[valueFlags[flag]]) throw new Error(`with --database-url, ${flag} is required`);
    }
    if (out.images && !out.bucket) throw new Error("with --database-url, --images needs --bucket");
  }
  return { ...(out as Omit<RecoverArgs, "recordId">), recordId };
}

/** Everything recovery needs, from .veil/ locally or from the flags for AWS. */
interface Target {
  readonly databaseUrl: string;
  readonly app: string;
  readonly stage: string;
  readonly region: string;
  readonly keyArn: string;
  readonly kms: KMSClient;
  readonly objects?: ObjectSource;
  readonly note?: string;
}

async function localTarget(args: RecoverArgs, stateDir: string, env: NodeJS.ProcessEnv): Promise<Target> {
  const json = async <T>(file: string): Promise<T> => {
    try {
      return JSON.parse(await readFile(join(stateDir, file), "utf8")) as T;
    } catch {
      throw new Error(`No local stack found in ${stateDir}: start it with 'npm run dev' first.`);
    }
  };
  const info = await json<{ databaseUrl: string; kmsEndpoint: string; region: string; stage: string }>(
    "local.json",
  );
  const ids = await json<{
    recordsKeyArn?: string;
    functionRole: { accessKeyId: string; secretAccessKey: string };
  }>("identities.json");
  // Whoever runs it, when they brought credentials; else the one local principal the key lets decrypt.
  const ownCredentials = Boolean(env.AWS_ACCESS_KEY_ID);
  const credentials = ownCredentials
    ? undefined
    : { accessKeyId: ids.functionRole.accessKeyId, secretAccessKey: ids.functionRole.secretAccessKey };
  const s3 = args.images
    ? await json<{
        endpoint: string;
        region: string;
        credentials: { accessKeyId: string; secretAccessKey: string };
        buckets: { images: string };
      }>("s3.json")
    : undefined;
  return {
    databaseUrl: info.databaseUrl,
    app: args.app ?? "veil",
    stage: info.stage,
    region: info.region,
    keyArn: requireKeyArn(ids.recordsKeyArn),
    kms: new KMSClient({
      region: info.region,
      endpoint: info.kmsEndpoint,
      ...(credentials ? { credentials } : {}),
    }),
    ...(s3 ? { objects: { s3: s3Client(s3), bucket: s3.buckets.images } } : {}),
    ...(ownCredentials
      ? {}
      : {
          note: "local stack: KMS is asked with the records function's credentials (set AWS_* to use yours)",
        }),
  };
}

function requireKeyArn(arn: string | undefined): string {
  if (!arn) throw new Error("the local stack's identities name no records key ARN: is it running?");
  return arn;
}

function awsTarget(args: RecoverArgs): Target {
  const region = args.region as string;
  return {
    databaseUrl: args.databaseUrl as string,
    app: args.app ?? "veil",
    stage: args.stage as string,
    region,
    keyArn: args.keyArn as string,
    kms: new KMSClient({ region, ...(args.kmsEndpoint ? { endpoint: args.kmsEndpoint } : {}) }),
    ...(args.images
      ? {
          objects: {
            s3: s3Client({ region, ...(args.s3Endpoint ? { endpoint: args.s3Endpoint } : {}) }),
            bucket: args.bucket as string,
          },
        }
      : {}),
  };
}

const extensions: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
  "application/pdf": "pdf",
};

/** What one run recovered. */
export interface RecoverResult {
  readonly record: {
    readonly id: string;
    readonly ownerId: string;
    readonly category: string;
    readonly createdAt: string;
    readonly updatedAt: string;
    readonly version: number;
    readonly fields: Record<string, string>;
  };
  /** Files written (the record's JSON first), when `--out` was given. */
  readonly files: string[];
}

/**
 * Runs `recover`: reads the row (and image objects), decrypts them with the stock tools, writes the
 * files under `--out` (mode 0600) or returns the record for printing. `log` gets progress lines.
 */
export async function runRecover(
  args: RecoverArgs,
  options: { stateDir: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void },
): Promise<RecoverResult> {
  const log = options.log ?? (() => undefined);
  const target = args.databaseUrl
    ? awsTarget(args)
    : await localTarget(args, options.stateDir, options.env ?? process.env);
  if (target.note) log(target.note);
  const found = await readRecord(target.databaseUrl, args.recordId, args.images);
  if (!found) throw new Error(`No record ${args.recordId}.`);
  const { record: row, images } = found;
  const keyring = recoveryKeyring({
    kms: target.kms,
    region: target.region,
    keyArn: target.keyArn,
  });
  const ids = { app: target.app, stage: target.stage, ownerId: row.ownerId };
  const fields = await recoverRecord(keyring, row.ciphertext, recordContext({ ...ids, recordId: row.id }));
  const record = {
    id: row.id,
    ownerId: row.ownerId,
    category: row.category,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
    fields,
  };
  const files: string[] = [];
  if (!args.out) return { record, files };

  await mkdir(args.out, { recursive: true, mode: 0o700 });
  const recordFile = join(args.out, `${row.id}.json`);
  await writeFile(recordFile, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  files.push(recordFile);
  log(`record ${row.id}: ${Object.keys(fields).length} fields → ${recordFile}`);
  for (const image of images) {
    const objects = target.objects as ObjectSource;
    const dir = join(args.out, row.id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${image.id}.${extensions[image.contentType] ?? "bin"}`);
    // Kept only once the whole object decrypted: a truncated or tampered one fails at its end.
    const partial = `${file}.${randomBytes(4).toString("hex")}.partial`;
    try {
      await recoverImage(
        keyring,
        await openImage(objects, image),
        createWriteStream(partial, { mode: 0o600 }),
        imageContext({ ...ids, recordId: row.id, imageId: image.id }),
      );
      await rename(partial, file);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    files.push(file);
    log(`image ${image.id} (${image.contentType}) → ${file}`);
  }
  return { record, files };
}
