/**
 * The database bootstrap: a deploy-time function (functions/src/db-bootstrap) that logs in to RDS as
 * the master user and runs the migrations and the app role model of @veil/db — `veil_app` owns
 * nothing, holds only the declared privileges and logs in with IAM tokens (`rds_iam`). The tables stay
 * owned by the master user, so the functions' role cannot alter them or switch off the audit trail's
 * triggers.
 *
 * It is the one client that connects to the instance directly, not through the RDS Proxy: the proxy
 * takes IAM logins only, and the master user logs in with its password. Its security group is the
 * only one the database admits besides the proxy's.
 *
 * Only this function's role may read the RDS-managed master secret (`GetSecretValue` on that one ARN;
 * no function role of grants.ts has any right on it). It runs in AWS even under `sst dev`, inside the
 * VPC. Pulumi invokes it when the
 * migrations, the role declaration or the database instance change, and keeps only its summary
 * (applied versions, whether the role was created) — never a credential.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { manifest } from "../functions/manifest.ts";
import type { Ctx } from "./context.ts";
import { serviceTrust } from "./context.ts";
import { createHandler, type Handler, sstHandler } from "./functions.ts";
import type { Network } from "./network.ts";
import { baseStatements, grant } from "./roles.ts";

/** The handler entry (`file.export`, from the repository root). */
export const dbBootstrapHandler = sstHandler(manifest["db-bootstrap"]);

/** The sources whose content decides whether the bootstrap must run again. */
export const dbSetupSources = [
  "packages/db/src/migrations.ts",
  "packages/db/src/app-privileges.ts",
  "packages/db/src/app-role.ts",
] as const;

/**
 * SHA-256 over the migrations and the role model, read from the repository at deploy time (infra may
 * not import @veil/db). A new migration, or a changed grant, changes it and so re-runs the bootstrap.
 */
export function dbSetupHash(root: string = process.cwd()): string {
  const hash = createHash("sha256");
  for (const file of dbSetupSources)
    hash
      .update(`${file}\0`)
      .update(readFileSync(join(root, file)))
      .update("\0");
  return hash.digest("hex");
}

export interface DbBootstrapArgs {
  readonly network: Network;
  readonly logsKeyArn: $util.Input<string>;
  /** The RDS instance (its resource id re-runs the bootstrap when the instance is replaced). */
  readonly instance: aws.rds.Instance;
  /** ARN of the RDS-managed master user secret (`instance.masterUserSecrets[0].secretArn`). */
  readonly masterSecretArn: $util.Input<string>;
  /**
   * The KMS key of the master secret when it is a customer-managed key
   * (`masterUserSecretKmsKeyId`); absent for the default `aws/secretsmanager` key, whose use through
   * Secrets Manager needs no grant.
   */
  readonly masterSecretKeyArn?: $util.Input<string>;
  /** The `Database` link (host, port, database, app user name) the handlers share. */
  readonly databaseLink: sst.Linkable<Record<string, unknown>>;
  /** Repository root for `dbSetupHash`; default the working directory (SST runs from the root). */
  readonly root?: string;
}

export interface DbBootstrap {
  readonly role: aws.iam.Role;
  readonly policy: aws.iam.RolePolicy;
  readonly handler: Handler;
  readonly invocation: aws.lambda.Invocation;
  /** The hash the invocation was triggered with. */
  readonly setupHash: string;
}

/** The bootstrap role's statements (exported for the least-privilege test). */
export function dbBootstrapStatements(a: {
  logGroupArn: $util.Input<string>;
  masterSecretArn: $util.Input<string>;
  masterSecretKeyArn?: $util.Input<string>;
  region: string;
}): Record<string, unknown>[] {
  const statements = [
    ...baseStatements(a.logGroupArn, { vpc: true }),
    {
      Sid: "ReadTheMasterSecretOnly",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: [a.masterSecretArn],
    },
  ];
  if (a.masterSecretKeyArn)
    statements.push({
      Sid: "DecryptTheMasterSecretThroughSecretsManager",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: [a.masterSecretKeyArn],
      Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${a.region}.amazonaws.com` } },
    });
  return statements;
}

/** Creates the role, the function (with its log group) and the deploy-time invocation. */
export function createDbBootstrap(ctx: Ctx, args: DbBootstrapArgs): DbBootstrap {
  const p = { provider: ctx.home };
  const role = new aws.iam.Role(
    "DbBootstrapRole",
    {
      name: ctx.name("db-bootstrap"),
      description: "Veil database bootstrap: migrations and the app role, as the RDS master user",
      assumeRolePolicy: serviceTrust("lambda.amazonaws.com"),
      maxSessionDuration: 3600,
    },
    p,
  );
  const masterLink = new sst.Linkable("DatabaseMaster", {
    properties: { secretArn: args.masterSecretArn, host: args.instance.address },
  });
  const handler = createHandler(ctx, manifest["db-bootstrap"], {
    role,
    logsKeyArn: args.logsKeyArn,
    // The database admits this group and the proxy's; the functions' group reaches the proxy only.
    network: { ...args.network, functionSecurityGroup: args.network.databaseAdminSecurityGroup },
    links: { Database: args.databaseLink, DatabaseMaster: masterLink },
  });
  const policy = grant(
    ctx,
    "DbBootstrapRolePolicy",
    role,
    dbBootstrapStatements({
      logGroupArn: handler.logGroup.arn,
      masterSecretArn: args.masterSecretArn,
      masterSecretKeyArn: args.masterSecretKeyArn,
      region: ctx.homeRegion,
    }),
  );
  const setupHash = dbSetupHash(args.root);
  const invocation = new aws.lambda.Invocation(
    "DbBootstrap",
    {
      // The function's own output, so the invocation waits for a code update to finish.
      functionName: handler.fn.name,
      input: JSON.stringify({ action: "migrate", migrationsHash: setupHash }),
      triggers: { setup: setupHash, database: args.instance.resourceId },
    },
    { ...p, dependsOn: [policy, args.instance] },
  );
  return { role, policy, handler, invocation, setupHash };
}
