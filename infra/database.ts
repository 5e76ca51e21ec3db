/**
 * RDS PostgreSQL in the private subnets. Storage and Performance Insights are encrypted with the data
 * key; TLS is forced by the parameter group; IAM database authentication is on and is the only way
 * `veil_app` logs in. The functions reach the instance only through the RDS Proxy (rds-proxy.ts), whose
 * role holds `connectArn`. The master password is created and rotated by Secrets Manager
 * (`manageMasterUserPassword`) and no function role may read it.
 */
import type { Ctx } from "./context.ts";
import type { Network } from "./network.ts";

/** The database user the functions log in as with IAM tokens. */
export const appDbUser = "veil_app";
export const dbName = "veil";
export const dbPort = 5432;

export interface Database {
  readonly instance: aws.rds.Instance;
  /** `rds-db:connect` resource ARN for `veil_app` on the instance (granted to the proxy's role only). */
  readonly connectArn: $util.Output<string>;
  /** ARN of the RDS-managed master user secret (read by the database bootstrap only). */
  readonly masterSecretArn: $util.Output<string>;
}

export interface DatabaseArgs {
  readonly network: Network;
  readonly dataKeyArn: $util.Input<string>;
}

/** Creates the parameter group, subnet group and the instance. */
export function createDatabase(ctx: Ctx, args: DatabaseArgs): Database {
  const p = { provider: ctx.home };
  const db = ctx.stage.database;
  const subnets = new aws.rds.SubnetGroup(
    "DatabaseSubnets",
    { name: ctx.name("db"), subnetIds: args.network.privateSubnetIds },
    p,
  );
  const parameters = new aws.rds.ParameterGroup(
    "DatabaseParameters",
    {
      name: ctx.name("pg17"),
      family: "postgres17",
      parameters: [
        { name: "rds.force_ssl", value: "1" },
        { name: "ssl_min_protocol_version", value: "TLSv1.2" },
        { name: "log_min_duration_statement", value: "-1" },
        { name: "log_statement", value: "none" },
      ],
    },
    p,
  );
  const instance = new aws.rds.Instance(
    "Database",
    {
      identifier: ctx.name("db"),
      engine: "postgres",
      engineVersion: "17",
      instanceClass: db.instanceClass,
      allocatedStorage: db.allocatedStorageGb,
      storageType: "gp3",
      dbName,
      username: "veil_master",
      manageMasterUserPassword: true,
      iamDatabaseAuthenticationEnabled: true,
      storageEncrypted: true,
      kmsKeyId: args.dataKeyArn,
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: args.dataKeyArn,
      performanceInsightsRetentionPeriod: 7,
      parameterGroupName: parameters.name,
      dbSubnetGroupName: subnets.name,
      vpcSecurityGroupIds: [args.network.databaseSecurityGroup.id],
      publiclyAccessible: false,
      multiAz: db.multiAz,
      port: dbPort,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      backupRetentionPeriod: db.backupRetentionDays,
      backupWindow: "01:00-02:00",
      maintenanceWindow: "sun:03:00-sun:04:00",
      copyTagsToSnapshot: true,
      deleteAutomatedBackups: !ctx.stage.protect,
      deletionProtection: db.deletionProtection,
      skipFinalSnapshot: !ctx.stage.protect,
      finalSnapshotIdentifier: ctx.stage.protect ? ctx.name("db-final") : undefined,
      autoMinorVersionUpgrade: true,
      applyImmediately: !ctx.stage.protect,
    },
    { ...p, ...ctx.keep },
  );
  const connectArn = $interpolate`arn:aws:rds-db:${ctx.homeRegion}:${ctx.accountId}:dbuser:${instance.resourceId}/${appDbUser}`;
  const masterSecretArn = instance.masterUserSecrets.apply((secrets) => {
    const arn = secrets?.[0]?.secretArn;
    if (!arn) throw new Error("the database has no RDS-managed master secret");
    return arn;
  });
  return { instance, connectArn, masterSecretArn };
}
