import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { LocalCognito } from "../cognito/index.ts";
import type { LocalGateway } from "../gateway/index.ts";
import type { LocalKms } from "../kms/index.ts";
import type { LocalLambda } from "../lambda/index.ts";
import { type LocalImageServices, startImageServices } from "../s3/image-services.ts";
import type { ExternalS3 } from "../s3/index.ts";
import { startApiGateway } from "./api-gateway.ts";
import { defaultPorts, type LocalStackInfo, type PortMap, stackPaths, writeStackInfo } from "./config.ts";
import { startEdge } from "./edge.ts";
import { gatewayRoutes, localBundleFlavour, prepareBundles, startFunction } from "./functions.ts";
import { type LocalIdentities, loadIdentities, saveIdentities } from "./identities.ts";
import { reservePort } from "./ports.ts";
import { startCognito, startDatabase, startKeys, startSecrets } from "./services.ts";
import { localStageConfig, type StageConfig, type StageName } from "./stage.ts";
import { createTeardown } from "./teardown.ts";
import { type StackTestOptions, testStackSettings } from "./test-switches.ts";
import { functionWiring } from "./wiring.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface StartStackOptions {
  /** State folder (database, keys, logs, `local.json`); default `.veil` in the repository. */
  readonly stateDir?: string;
  /** Ports; `defaultPorts` by default, `ephemeralPorts` in tests. */
  readonly ports?: PortMap;
  /** Use this PostgreSQL instead of the embedded PGlite (CI uses Debian's PostgreSQL). */
  readonly databaseUrl?: string;
  /** Folder of the built web app; default `web/dist` when it exists. */
  readonly webRoot?: string;
  readonly region?: string;
  /** Stage name: the gateway's path prefix, the functions' names and encryption context; default `local`. */
  readonly stage?: string;
  /**
   * The stage whose settings (the usage plan's throttle) the stack applies, read from the same typed
   * stage config as the infrastructure; default `dev`. Test and bench runs that drive more requests
   * than a developer does choose `prod` explicitly.
   */
  readonly stageSettings?: StageName;
  /**
   * Use this S3-compatible server (e.g. a test Swift, which keeps versions) instead of the embedded
   * s3rver. Its SigV4 region must be `region`.
   */
  readonly s3?: ExternalS3;
  /**
   * The function bundles to run (`<dir>/<name>/index.mjs`); default `functions/dist/test` in a test
   * run and `functions/dist/production` otherwise, built when stale.
   */
  readonly bundleDir?: string;
  /**
   * Test only, refused outside a test run: switch one security control off (to show a test fails
   * without it), make the function log its input, put a proxy in front of the gateway.
   */
  readonly test?: StackTestOptions;
}

/** A running local stack. */
export interface LocalStack {
  readonly info: LocalStackInfo;
  readonly identities: LocalIdentities;
  /** The stage settings it applies (`StartStackOptions.stageSettings`). */
  readonly settings: StageConfig;
  readonly kms: LocalKms;
  readonly gateway: LocalGateway;
  readonly cognito: LocalCognito;
  readonly records: LocalLambda;
  /** The local S3 (buckets, notifications) and the image functions. */
  readonly images: LocalImageServices;
  /** Rotates the API key as the scheduled function does in AWS: add new, switch the edge, drop old. */
  rotateApiKey(newKey: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the whole request path on this machine: PostgreSQL (PGlite or a given server), KMS, Secrets
 * Manager, Cognito, S3, the functions of the manifest each in its own process from its bundle, API
 * Gateway, the edge signer and CloudFront in front — the same bundles and edge code as in AWS. Writes
 * `<stateDir>/local.json`.
 *
 * @example
 * const stack = await startLocalStack({ stateDir: tmp, ports: ephemeralPorts, databaseUrl });
 * await fetch(`${stack.info.edgeUrl}/api/records`, { headers: { authorization: `Bearer ${token}` } });
 * await stack.stop();
 */
export async function startLocalStack(options: StartStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? "eu-central-2";
  const stage = options.stage ?? "local";
  const settings = localStageConfig(options.stageSettings);
  const testing = testStackSettings(options.test);
  const paths = stackPaths(options.stateDir ?? join(repoRoot, ".veil"));
  const requested = options.ports ?? { ...defaultPorts };
  // Components bind their own ports (0 = the OS picks, no race); only the edge's must be known before
  // it starts (Cognito's and S3's CORS origins), so it is held until CloudFront binds it.
  const edgePort = await reservePort(requested.edge);
  const ports = { ...requested, edge: edgePort.port };
  const edgeOrigins = [`http://localhost:${ports.edge}`, `http://127.0.0.1:${ports.edge}`];
  const teardown = createTeardown(paths.logDir, () => edgePort.release());

  try {
    // A test run's global setup has built the bundles; otherwise they are built when stale.
    const bundles = await prepareBundles(localBundleFlavour(), options.bundleDir);
    const database = await startDatabase(teardown, {
      paths,
      port: ports.database,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    });
    const keys = await startKeys(teardown, {
      paths,
      port: ports.kms,
      region,
      ids: await loadIdentities(paths.identityFile),
      ...(testing.keyPolicy ? { keyPolicyOverride: testing.keyPolicy } : {}),
    });
    const ids = keys.ids;
    const secrets = await startSecrets(teardown, { paths, port: ports.secrets, region, ids });
    const cognito = await startCognito(teardown, {
      paths,
      port: ports.cognito,
      region,
      allowedOrigins: edgeOrigins,
    });
    const wiring = functionWiring({
      region,
      ids,
      kms: keys.kms,
      secrets,
      cognito,
      database,
      recordsKeyArn: keys.recordsKeyArn,
    });

    // The functions, each in its own process with the function role's credentials only. Only the
    // records function has test switches; their environment goes to it alone.
    const records = startFunction("records", {
      bundleDir: bundles.dir,
      stage,
      logDir: paths.logDir,
      links: wiring.links,
      env: { ...wiring.env, ...testing.functionEnv },
    });
    teardown.add(() => records.stop());
    const images = await startImageServices({
      ...(database.singleSession ? { cleanupIntervalMs: false as const } : {}),
      bundleDir: bundles.dir,
      stage,
      region,
      stateDir: paths.stateDir,
      s3Dir: paths.s3Dir,
      logDir: paths.logDir,
      port: ports.s3,
      ...(options.s3 ? { external: options.s3 } : {}),
      allowedOrigins: edgeOrigins,
      functionEnv: wiring.env,
      links: wiring.links,
    });
    teardown.add(() => images.stop());

    const gateway = await startApiGateway(teardown, {
      port: ports.gateway,
      stage,
      region,
      settings,
      ids,
      routes: [...gatewayRoutes("records", stage, records), ...images.routes],
      log: teardown.logTo("gateway"),
      checksOff: testing.gatewayChecksOff,
      ...(testing.gatewayTimeoutMs ? { timeoutMs: testing.gatewayTimeoutMs } : {}),
    });

    let apiKey = ids.apiKeys[ids.apiKeys.length - 1] as string;
    const gatewayPort = Number(new URL(gateway.url).port);
    const originPort = testing.originPort ? await testing.originPort(gatewayPort) : gatewayPort;
    const webRoot =
      options.webRoot ??
      (existsSync(join(repoRoot, "web/dist/index.html")) ? join(repoRoot, "web/dist") : undefined);
    await edgePort.release();
    const cloudfront = await startEdge(teardown, {
      port: ports.edge,
      region,
      stage,
      ids,
      originPort,
      apiKey: () => apiKey,
      ...(webRoot ? { webRoot } : {}),
      cognito,
      connectSrc: [cognito.endpoint, images.s3.info.endpoint],
      uploadOrigins: [new URL(images.s3.info.endpoint).origin],
      accessLog: teardown.logTo("cloudfront"),
      fleOff: testing.fleOff,
      securityHeadersOff: testing.securityHeadersOff,
    });

    const info: LocalStackInfo = {
      edgeUrl: cloudfront.url,
      gatewayUrl: gateway.url,
      gatewayApiKey: apiKey,
      kmsEndpoint: keys.kms.endpoint,
      s3Endpoint: images.s3.info.endpoint,
      secretsEndpoint: secrets.secrets.endpoint,
      cognito: {
        endpoint: cognito.endpoint,
        region,
        userPoolId: cognito.userPoolId,
        clientId: cognito.clientId,
      },
      databaseUrl: database.url,
      stateDir: paths.stateDir,
      logDir: paths.logDir,
      region,
      stage,
      stageSettings: settings.name,
      pid: process.pid,
    };
    await writeStackInfo(paths.infoFile, info);
    return {
      info,
      identities: ids,
      settings,
      kms: keys.kms,
      gateway,
      cognito,
      records,
      images,
      async rotateApiKey(newKey) {
        gateway.setApiKeys([apiKey, newKey]);
        apiKey = newKey;
        gateway.setApiKeys([newKey]);
        const current = await loadIdentities(paths.identityFile);
        await saveIdentities(paths.identityFile, { ...current, apiKeys: [newKey] });
        await writeStackInfo(paths.infoFile, { ...info, gatewayApiKey: newKey });
      },
      stop: () => teardown.stopAll(),
    };
  } catch (err) {
    await teardown.stopAll();
    throw err;
  }
}
