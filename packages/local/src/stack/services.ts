/**
 * The stack's stand-ins for the managed services the functions call: PostgreSQL, KMS with the records
 * key, Secrets Manager with the FLE and idempotency secrets, and Cognito. Each step starts one service,
 * registers its stop, and grants exactly the principals the infrastructure would.
 */
import { startPgliteServer } from "@veil/db/pglite";
import { type LocalCognito, startLocalCognito } from "../cognito/index.ts";
import { keyPolicy, type LocalKms, startLocalKms } from "../kms/index.ts";
import type { PolicyDocument } from "../kms/policy.ts";
import { type LocalSecrets, startLocalSecrets } from "../secrets/index.ts";
import type { stackPaths } from "./config.ts";
import { type LocalDatabase, prepareLocalDatabase } from "./database.ts";
import { localFunctions } from "./functions.ts";
import { type LocalIdentities, type LocalPrincipal, saveIdentities } from "./identities.ts";
import type { Teardown } from "./teardown.ts";

type StackPaths = ReturnType<typeof stackPaths>;

const recordsKeyAlias = "alias/veil-local-records";
const fleSecretName = "veil/local/fle-private-key";
const idempotencySecretName = "veil/local/idempotency-request-hash-key";

/** Who can sign requests to a service: access key id → secret and ARN, for these principals only. */
export function principalLookup(known: readonly LocalPrincipal[]) {
  return (accessKeyId: string) => {
    const p = known.find((k) => k.accessKeyId === accessKeyId);
    return p ? { secret: p.secretAccessKey, arn: p.arn } : undefined;
  };
}

/** The stack's database, migrated, with the functions' login. */
export interface StackDatabase extends LocalDatabase {
  readonly url: string;
  /** PGlite serves one session: the functions log in as the admin and share it. */
  readonly singleSession: boolean;
}

/** Uses the given PostgreSQL, or starts PGlite in the state folder; migrates it as the admin. */
export async function startDatabase(
  teardown: Teardown,
  a: { paths: StackPaths; port: number; databaseUrl?: string },
): Promise<StackDatabase> {
  let url = a.databaseUrl;
  const singleSession = !url;
  if (!url) {
    // One connection per function process, plus room for a reconnect's overlap and a psql.
    const pg = await startPgliteServer({
      dataDir: a.paths.pgDir,
      port: a.port,
      maxConnections: localFunctions.length + 2,
    });
    teardown.add(() => pg.stop());
    url = pg.connectionString;
  }
  const db = await prepareLocalDatabase(url, { singleSession });
  return { ...db, url, singleSession };
}

/**
 * Starts KMS and creates the records key on first start: only the function role may use it, the admin
 * role only manage it, the developer only describe and list. Resolves with the key's ARN.
 */
export async function startKeys(
  teardown: Teardown,
  a: {
    paths: StackPaths;
    port: number;
    region: string;
    ids: LocalIdentities;
    /** Replaces the records key's policy (a test switching the key policy off). */
    keyPolicyOverride?: PolicyDocument;
  },
): Promise<{ kms: LocalKms; recordsKeyArn: string; ids: LocalIdentities }> {
  const { ids } = a;
  const principal = (p: LocalPrincipal, actions: string[] = []) => ({
    [p.accessKeyId]: { secret: p.secretAccessKey, arn: p.arn, identityActions: actions },
  });
  const kms = await startLocalKms({
    port: a.port,
    stateDir: a.paths.stateDir,
    region: a.region,
    accountId: ids.accountId,
    principals: {
      ...principal(ids.functionRole),
      ...principal(ids.adminRole, ["kms:*"]),
      ...principal(ids.developer, ["kms:Describe*", "kms:List*"]),
    },
  });
  teardown.add(() => kms.stop());
  if (ids.recordsKeyArn) return { kms, recordsKeyArn: ids.recordsKeyArn, ids };
  const recordsKeyArn = kms.createKey({
    policy: a.keyPolicyOverride ?? keyPolicy({ admins: [ids.adminRole.arn], users: [ids.functionRole.arn] }),
    description: "Veil local records key",
    alias: recordsKeyAlias,
  });
  const saved = { ...ids, recordsKeyArn };
  await saveIdentities(a.paths.identityFile, saved);
  return { kms, recordsKeyArn, ids: saved };
}

/** Starts Secrets Manager with the FLE private key and the idempotency key, for the function role only. */
export async function startSecrets(
  teardown: Teardown,
  a: { paths: StackPaths; port: number; region: string; ids: LocalIdentities },
): Promise<{ secrets: LocalSecrets; fleSecretArn: string; idempotencySecretArn: string }> {
  const { ids } = a;
  const secrets = await startLocalSecrets({
    port: a.port,
    stateDir: a.paths.secretsDir,
    region: a.region,
    accountId: ids.accountId,
    principals: principalLookup([ids.functionRole, ids.adminRole, ids.developer]),
  });
  teardown.add(() => secrets.stop());
  const fleSecretArn = await secrets.define(
    fleSecretName,
    { readers: [ids.functionRole.arn], writers: [ids.adminRole.arn] },
    JSON.stringify({ keyName: ids.fle.keyName, privateKeyPem: ids.fle.privateKeyPem }),
  );
  // No value here: the records function's first use writes it, as in AWS, and it stays in the state
  // folder across restarts and FLE key rotations.
  const idempotencySecretArn = await secrets.define(idempotencySecretName, {
    readers: [ids.functionRole.arn],
    writers: [ids.functionRole.arn],
  });
  return { secrets, fleSecretArn, idempotencySecretArn };
}

/** Starts Cognito, accepting the web app's origins. */
export async function startCognito(
  teardown: Teardown,
  a: { paths: StackPaths; port: number; region: string; allowedOrigins: string[] },
): Promise<LocalCognito> {
  const cognito = await startLocalCognito({
    port: a.port,
    stateDir: a.paths.stateDir,
    region: a.region,
    allowedOrigins: a.allowedOrigins,
  });
  teardown.add(() => cognito.stop());
  return cognito;
}
