import type { LinkName } from "@veil/functions/manifest";
import type { S3EventRecord } from "aws-lambda";
import type { GatewayRoute } from "../gateway/index.ts";
import type { LocalLambda } from "../lambda/index.ts";
import { gatewayRoutes, startFunction } from "../stack/functions.ts";
import { type ExternalS3, type LocalS3, startLocalS3, writeS3Info } from "./server.ts";

export interface ImageServicesOptions {
  /** The folder of the function bundles (`prepareBundles`). */
  readonly bundleDir: string;
  readonly stage: string;
  readonly region: string;
  readonly stateDir: string;
  readonly s3Dir: string;
  readonly logDir: string;
  readonly port: number;
  readonly external?: ExternalS3;
  readonly allowedOrigins: readonly string[];
  /** Environment every image function gets (region, role credentials, KMS and Secrets endpoints, …). */
  readonly functionEnv: Record<string, string>;
  /**
   * The local value of every link besides the buckets (RecordsKey, Database, UserPool, UserPoolClient,
   * FleKey, FlePublicKey): each function gets those of its manifest entry.
   */
  readonly links: Partial<Record<LinkName, unknown>>;
  /** Retries of a failed ingest, as Lambda's asynchronous invocation does (twice); delays in ms. */
  readonly retryDelaysMs?: readonly number[];
  /**
   * How often the image cleanup runs, as its EventBridge schedule does in AWS (every 5 minutes): a
   * few seconds here, so an erased record's images go soon. Default 5000 ms; `false`: no schedule,
   * only `cleanUp()` and a last run at stop. PGlite needs that: it is one session shared by every
   * function, and a cleanup transaction interleaved with a download's queries fails the download.
   */
  readonly cleanupIntervalMs?: number | false;
}

/** What a run of the image cleanup did (functions/src/images-cleanup/handler.ts). */
export interface ImageCleanupResult {
  readonly deleted: number;
  readonly failed: number;
}

/** The image part of the local stack. */
export interface LocalImageServices {
  readonly s3: LocalS3;
  readonly api: LocalLambda;
  readonly download: LocalLambda;
  readonly ingest: LocalLambda;
  /** The scheduled image cleanup (stored objects of erased records). */
  readonly cleanup: LocalLambda;
  /** Runs the image cleanup now, after any run in progress; rejects when it could not delete all. */
  cleanUp(): Promise<ImageCleanupResult>;
  /** Gateway routes of the image API (`imageRoutes`, the download in STREAM mode) and the account API. */
  readonly routes: GatewayRoute[];
  /** Resolves when every notified upload has been ingested (or has failed its last retry). */
  idle(): Promise<void>;
  /** Outcomes of ingest invocations so far: what S3 → Lambda delivery would show in CloudWatch metrics. */
  readonly deliveries: { succeeded: number; failed: number; retried: number };
  stop(): Promise<void>;
}

/**
 * Starts the local S3 (buckets, notifications, CORS) and the image functions in their own processes:
 * the buffered API, the streaming download, the ingest — invoked asynchronously with the S3 event
 * record of each upload, retried like an asynchronous Lambda invocation — and the cleanup of erased
 * records' images, run on a timer like its schedule.
 */
export async function startImageServices(options: ImageServicesOptions): Promise<LocalImageServices> {
  const inFlight = new Set<Promise<void>>();
  const deliveries = { succeeded: 0, failed: 0, retried: 0 };
  const delays = options.retryDelaysMs ?? [200, 1000];
  let ingest: LocalLambda | undefined;
  const deliver = (record: S3EventRecord) => {
    const run = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await ingest?.invoke({ Records: [record] });
          deliveries.succeeded++;
          return;
        } catch {
          if (attempt >= delays.length) {
            deliveries.failed++;
            return;
          }
          deliveries.retried++;
          await new Promise((r) => setTimeout(r, delays[attempt]));
        }
      }
    })();
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
  };

  const s3 = await startLocalS3({
    port: options.port,
    region: options.region,
    stage: options.stage,
    dataDir: options.s3Dir,
    ...(options.external ? { external: options.external } : {}),
    allowedOrigins: options.allowedOrigins,
    onObjectCreated: deliver,
  });
  const stops: Array<() => Promise<void>> = [() => s3.stop()];
  try {
    await writeS3Info(options.stateDir, s3.info);
    const env = {
      ...options.functionEnv,
      AWS_ENDPOINT_URL_S3: s3.info.endpoint,
      VEIL_S3_CREDENTIALS: JSON.stringify(s3.info.credentials),
    };
    const links = {
      ...options.links,
      InboxBucket: { name: s3.info.buckets.inbox },
      ImagesBucket: { name: s3.info.buckets.images },
    };
    const fn = (name: "images-api" | "images-download" | "images-ingest" | "images-cleanup" | "account") =>
      startFunction(name, {
        bundleDir: options.bundleDir,
        stage: options.stage,
        logDir: options.logDir,
        links,
        env,
      });
    const api = fn("images-api");
    stops.push(() => api.stop());
    const download = fn("images-download");
    stops.push(() => download.stop());
    ingest = fn("images-ingest");
    const ingestFn = ingest;
    stops.push(() => ingestFn.stop());
    const cleanup = fn("images-cleanup");
    stops.push(() => cleanup.stop());
    // The account erasure deletes objects of both buckets, so it runs beside the image functions.
    const accountFn = fn("account");
    stops.push(() => accountFn.stop());
    // One run at a time, as the schedule's runs rarely overlap; an explicit run queues behind.
    let lastRun: Promise<unknown> = Promise.resolve();
    const runCleanup = (): Promise<ImageCleanupResult> => {
      const run = lastRun.catch(() => undefined).then(() => cleanup.invoke<ImageCleanupResult>({}));
      lastRun = run;
      return run;
    };
    const interval = options.cleanupIntervalMs ?? 5000;
    const timer =
      interval === false
        ? undefined
        : setInterval(() => {
            runCleanup().catch(() => undefined); // logged by the function; the next tick retries
          }, interval);
    timer?.unref();
    stops.push(async () => {
      if (timer) clearInterval(timer);
      else await runCleanup().catch(() => undefined);
      await lastRun.catch(() => undefined);
    });

    const routes: GatewayRoute[] = [
      ...gatewayRoutes("images-api", options.stage, api),
      ...gatewayRoutes("images-download", options.stage, download),
      ...gatewayRoutes("account", options.stage, accountFn),
    ];

    return {
      s3,
      api,
      download,
      ingest: ingestFn,
      cleanup,
      cleanUp: runCleanup,
      routes,
      deliveries,
      async idle() {
        while (inFlight.size > 0) await Promise.all([...inFlight]);
      },
      async stop() {
        await Promise.all([...inFlight]).catch(() => undefined);
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
