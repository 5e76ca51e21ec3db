import { createWriteStream, existsSync, mkdirSync, type WriteStream } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { headers, securityHeaders } from "@veil/core";
import { encryptFleForm } from "@veil/crypto";
import { startPgliteServer } from "@veil/db/pglite";
import { createOriginRequestHandler } from "@veil/edge";
import { type LocalCloudFront, startLocalCloudFront } from "../cloudfront/index.ts";
import { type LocalCognito, startLocalCognito } from "../cognito/index.ts";
import { type LocalGateway, startGateway } from "../gateway/index.ts";
import { keyPolicy, type LocalKms, startLocalKms } from "../kms/index.ts";
import type { LocalLambda } from "../lambda/index.ts";
import { type StackTestOptions, testStackSettings } from "../proof/controls.ts";
import { type LocalImageServices, startImageServices } from "../s3/image-services.ts";
import type { ExternalS3 } from "../s3/index.ts";
import { type LocalSecrets, startLocalSecrets } from "../secrets/index.ts";
import { defaultPorts, type LocalStackInfo, type PortMap, stackPaths, writeStackInfo } from "./config.ts";
import { prepareLocalDatabase } from "./database.ts";
import {
  gatewayRoutes,
  localBundleFlavour,
  localFunctions,
  prepareBundles,
  startFunction,
} from "./functions.ts";
import { type LocalIdentities, type LocalPrincipal, loadIdentities, saveIdentities } from "./identities.ts";
import { reservePort } from "./ports.ts";

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
  readonly stage?: string;
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

/** Who can sign requests to a service: access key id → secret and ARN, for these principals only. */
function principalLookup(known: readonly LocalPrincipal[]) {
  return (accessKeyId: string) => {
    const p = known.find((k) => k.accessKeyId === accessKeyId);
    return p ? { secret: p.secretAccessKey, arn: p.arn } : undefined;
  };
}

const recordsKeyAlias = "alias/veil-local-records";
const fleSecretName = "veil/local/fle-private-key";
const idempotencySecretName = "veil/local/idempotency-request-hash-key";

/**
 * Starts the whole request path on this machine: PostgreSQL (PGlite or a given server), KMS, Secrets
 * Manager, Cognito, S3, the functions of the manifest each in its own process from its bundle, API
 * Gateway, the edge signer and CloudFront in front — the same bundles and edge code as in AWS. Writes
 * `<stateDir>/local.json`.
 */
export async function startLocalStack(options: StartStackOptions = {}): Promise<LocalStack> {
  const region = options.region ?? "eu-central-2";
  const stage = options.stage ?? "local";
  const testing = testStackSettings(options.test);
  const paths = stackPaths(options.stateDir ?? join(repoRoot, ".veil"));
  mkdirSync(paths.logDir, { recursive: true });
  const requested = options.ports ?? { ...defaultPorts };
  // Components bind their own ports (0 = the OS picks, no race); only the edge's must be known before
  // it starts (Cognito's and S3's CORS origins), so it is held until CloudFront binds it.
  const edgePort = await reservePort(requested.edge);
  const ports = { ...requested, edge: edgePort.port };
  const ids = await loadIdentities(paths.identityFile);
  const stops: Array<() => Promise<void>> = [];
  const logs: WriteStream[] = [];
  const logTo = (name: string) => {
    const stream = createWriteStream(join(paths.logDir, `${name}.log`), { flags: "a" });
    logs.push(stream);
    return (entry: Record<string, unknown>) =>
      stream.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  };
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
    await edgePort.release();
    await Promise.all(logs.map((l) => new Promise<void>((r) => l.end(r))));
  };

  try {
    // 0. The function bundles (built when stale; a test run's global setup has built them).
    const bundles = await prepareBundles(localBundleFlavour(), options.bundleDir);

    // 1. PostgreSQL.
    let databaseUrl = options.databaseUrl;
    const singleSession = !databaseUrl;
    if (!databaseUrl) {
      // One connection per function process, plus room for a reconnect's overlap and a psql.
      const pg = await startPgliteServer({
        dataDir: paths.pgDir,
        port: ports.database,
        maxConnections: localFunctions.length + 2,
      });
      stops.push(() => pg.stop());
      databaseUrl = pg.connectionString;
    }
    // Migrated by the admin; the functions log in as veil_app (on PGlite, as the admin: one session).
    const db = await prepareLocalDatabase(databaseUrl, { singleSession });

    // 2. KMS with the records key: only the function role may use it, the admin role only manage it.
    const principal = (
      p: { accessKeyId: string; secretAccessKey: string; arn: string },
      actions: string[] = [],
    ) => ({
      [p.accessKeyId]: { secret: p.secretAccessKey, arn: p.arn, identityActions: actions },
    });
    const kms = await startLocalKms({
      port: ports.kms,
      stateDir: paths.stateDir,
      region,
      accountId: ids.accountId,
      principals: {
        ...principal(ids.functionRole),
        ...principal(ids.adminRole, ["kms:*"]),
        ...principal(ids.developer, ["kms:Describe*", "kms:List*"]),
      },
    });
    stops.push(() => kms.stop());
    let recordsKeyArn = ids.recordsKeyArn;
    if (!recordsKeyArn) {
      recordsKeyArn = kms.createKey({
        policy:
          testing.keyPolicy ?? keyPolicy({ admins: [ids.adminRole.arn], users: [ids.functionRole.arn] }),
        description: "Veil local records key",
        alias: recordsKeyAlias,
      });
      await saveIdentities(paths.identityFile, { ...ids, recordsKeyArn });
    }

    // 3. Secrets Manager with the FLE private key and the idempotency key, for the function role only.
    const secrets: LocalSecrets = await startLocalSecrets({
      port: ports.secrets,
      stateDir: paths.secretsDir,
      region,
      accountId: ids.accountId,
      principals: principalLookup([ids.functionRole, ids.adminRole, ids.developer]),
    });
    stops.push(() => secrets.stop());
    const fleSecretArn = await secrets.define(
      fleSecretName,
      { readers: [ids.functionRole.arn], writers: [ids.adminRole.arn] },
      JSON.stringify({ keyName: ids.fle.keyName, privateKeyPem: ids.fle.privateKeyPem }),
    );
    // The key of the idempotency request hash: no value here; the records function's first use writes
    // it, as in AWS, and it stays in the state folder across restarts and FLE key rotations.
    const idempotencySecretArn = await secrets.define(idempotencySecretName, {
      readers: [ids.functionRole.arn],
      writers: [ids.functionRole.arn],
    });

    // 4. Cognito.
    const edgeUrl = `http://localhost:${ports.edge}`;
    const cognito = await startLocalCognito({
      port: ports.cognito,
      stateDir: paths.stateDir,
      region,
      allowedOrigins: [edgeUrl, `http://127.0.0.1:${ports.edge}`],
    });
    stops.push(() => cognito.stop());

    // 5. The functions, each in its own process with the function role's credentials only, and S3.
    const functionEnv = {
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: ids.functionRole.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ids.functionRole.secretAccessKey,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      VEIL_COGNITO_JWKS: JSON.stringify(cognito.jwks),
      // The account function's DeleteUser (the user's own token; no SigV4).
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: cognito.endpoint,
    };
    const links = {
      RecordsKey: { arn: recordsKeyArn },
      Database: {
        host: "127.0.0.1",
        port: Number(new URL(databaseUrl).port) || 5432,
        username: db.functionRole,
        database: "postgres",
        url: db.functionUrl,
        singleSession,
      },
      UserPool: { id: cognito.userPoolId },
      UserPoolClient: { id: cognito.clientId },
      FleKey: { secretArn: fleSecretArn, providerId: ids.fle.providerId },
      IdempotencySecret: { secretArn: idempotencySecretArn },
      FlePublicKey: { pem: ids.fle.publicKeyPem, keyName: ids.fle.keyName, providerId: ids.fle.providerId },
    };
    // Only the records function has test switches; their environment goes to it alone.
    const records = startFunction("records", {
      bundleDir: bundles.dir,
      stage,
      logDir: paths.logDir,
      links,
      env: { ...functionEnv, ...testing.functionEnv },
    });
    stops.push(() => records.stop());

    // 5b. S3 (inbox and images buckets, upload notifications) and the image functions.
    const images = await startImageServices({
      ...(singleSession ? { cleanupIntervalMs: false as const } : {}),
      bundleDir: bundles.dir,
      stage,
      region,
      stateDir: paths.stateDir,
      s3Dir: paths.s3Dir,
      logDir: paths.logDir,
      port: ports.s3,
      ...(options.s3 ? { external: options.s3 } : {}),
      allowedOrigins: [edgeUrl, `http://127.0.0.1:${ports.edge}`],
      functionEnv,
      links,
    });
    stops.push(() => images.stop());

    // 6. API Gateway: API key of the usage plan + SigV4 from the edge role.
    const gatewayLog = logTo("gateway");
    const gateway = await startGateway({
      port: ports.gateway,
      stage,
      region,
      accountId: ids.accountId,
      apiKeys: { keys: ids.apiKeys, throttle: { rateLimit: 200, burstLimit: 400 } },
      principals: principalLookup([ids.edgeRole, ids.developer]),
      allowedPrincipalArns: [ids.edgeRole.arn],
      ...(testing.gatewayChecksOff.length > 0 ? { disabledChecks: testing.gatewayChecksOff } : {}),
      ...(testing.gatewayTimeoutMs ? { timeoutMs: testing.gatewayTimeoutMs } : {}),
      routes: [...gatewayRoutes("records", stage, records), ...images.routes],
      logger: {
        warn: (message, fields) => gatewayLog({ level: "WARN", message, ...fields }),
        error: (message, fields) => gatewayLog({ level: "ERROR", message, ...fields }),
      },
    });
    stops.push(() => gateway.stop());

    // 7. The edge signer and CloudFront in front of everything.
    let apiKey = ids.apiKeys[ids.apiKeys.length - 1] as string;
    const edgeSigner = createOriginRequestHandler({
      region,
      credentials: () => ({
        accessKeyId: ids.edgeRole.accessKeyId,
        secretAccessKey: ids.edgeRole.secretAccessKey,
      }),
    });
    const webRoot =
      options.webRoot ??
      (existsSync(join(repoRoot, "web/dist/index.html")) ? join(repoRoot, "web/dist") : undefined);
    const gatewayPort = Number(new URL(gateway.url).port);
    const originPort = testing.originPort ? await testing.originPort(gatewayPort) : gatewayPort;
    await edgePort.release();
    const cloudfront: LocalCloudFront = await startLocalCloudFront({
      port: ports.edge,
      ...(webRoot ? { webRoot } : {}),
      origin: () => ({
        domainName: "127.0.0.1",
        port: originPort,
        protocol: "http",
        path: `/${stage}`,
        customHeaders: { [headers.apiKey]: apiKey },
      }),
      originRequest: edgeSigner,
      encryptForm: async (body) =>
        testing.fleOff
          ? body
          : encryptFleForm(body, {
              publicKeyPem: ids.fle.publicKeyPem,
              providerId: ids.fle.providerId,
              keyName: ids.fle.keyName,
            }),
      responseHeaders: testing.securityHeadersOff
        ? {}
        : securityHeaders({
            connectSrc: [cognito.endpoint, images.s3.info.endpoint],
            upgradeInsecureRequests: false,
          }),
      accessLog: logTo("cloudfront"),
      runtimeConfig: () => ({
        region,
        stage,
        cognito: {
          userPoolId: cognito.userPoolId,
          userPoolClientId: cognito.clientId,
          endpoint: cognito.endpoint,
          authFlow: "USER_PASSWORD_AUTH",
        },
      }),
    });
    stops.push(() => cloudfront.stop());

    const info: LocalStackInfo = {
      edgeUrl: cloudfront.url,
      gatewayUrl: gateway.url,
      gatewayApiKey: apiKey,
      kmsEndpoint: kms.endpoint,
      s3Endpoint: images.s3.info.endpoint,
      secretsEndpoint: secrets.endpoint,
      cognito: {
        endpoint: cognito.endpoint,
        region,
        userPoolId: cognito.userPoolId,
        clientId: cognito.clientId,
      },
      databaseUrl,
      stateDir: paths.stateDir,
      logDir: paths.logDir,
      region,
      stage,
      pid: process.pid,
    };
    await writeStackInfo(paths.infoFile, info);
    return {
      info,
      identities: { ...ids, recordsKeyArn },
      kms,
      gateway,
      cognito,
      records,
      images,
      async rotateApiKey(newKey) {
        const old = apiKey;
        gateway.setApiKeys([old, newKey]);
        apiKey = newKey;
        gateway.setApiKeys([newKey]);
        const current = await loadIdentities(paths.identityFile);
        await saveIdentities(paths.identityFile, { ...current, apiKeys: [newKey] });
        await writeStackInfo(paths.infoFile, { ...info, gatewayApiKey: newKey });
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
