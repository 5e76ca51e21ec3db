/**
 * RDS Proxy in front of PostgreSQL, so that a burst of Lambda instances shares a bounded pool of
 * database connections instead of opening one each.
 *
 * End-to-end IAM authentication (`defaultAuthScheme: "IAM_AUTH"`): the functions log in to the proxy
 * as `veil_app` with an IAM token signed for the proxy's endpoint, and the proxy logs in to the
 * database as that same user with IAM tokens of its own role. No password of `veil_app` exists, so
 * there is no Secrets Manager secret to store, rotate or leak. TLS is required on both legs (the proxy
 * by `requireTls`, the database by `rds.force_ssl`).
 *
 * Grants: the function roles may `rds-db:connect` to the proxy's resource id as `veil_app` only
 * (`connectArn`); the proxy's role may `rds-db:connect` to the instance's resource id as `veil_app`
 * only. The master user never goes through the proxy: the deploy-time bootstrap connects to the
 * instance directly (db-bootstrap.ts).
 */
import type { Ctx } from "./context.ts";
import { policyJson } from "./context.ts";
import { appDbUser } from "./database.ts";
import type { Network } from "./network.ts";
import { grant } from "./roles.ts";

/**
 * Pool settings of the proxy's target group. The proxy keeps at most `maxConnectionsPercent` of the
 * instance's `max_connections`; the rest is left for the bootstrap, RDS's own reserved connections and
 * an operator. A client waits at most `connectionBorrowTimeoutSeconds` for a pooled connection — as
 * long as the functions' pool waits to connect (`connectionTimeoutMs` of @veil/db), so a saturated
 * proxy answers within the request instead of after it.
 */
export const proxyPool = {
  maxConnectionsPercent: 75,
  maxIdleConnectionsPercent: 25,
  connectionBorrowTimeoutSeconds: 5,
  /** Seconds a client connection may stay idle; a warm Lambda keeps its two pooled connections. */
  idleClientTimeoutSeconds: 900,
} as const;

export interface RdsProxy {
  readonly proxy: aws.rds.Proxy;
  readonly role: aws.iam.Role;
  readonly target: aws.rds.ProxyTarget;
  /** Host name the functions connect to (and sign their IAM tokens for). */
  readonly endpoint: $util.Output<string>;
  /** `rds-db:connect` resource of `veil_app` on the proxy: what the function roles are granted. */
  readonly connectArn: $util.Output<string>;
}

export interface RdsProxyArgs {
  readonly network: Network;
  readonly instance: aws.rds.Instance;
}

/** `prx-…`: the proxy's resource id, the last part of its ARN (`arn:aws:rds:…:db-proxy:prx-…`). */
export function proxyResourceId(proxyArn: string): string {
  const id = proxyArn.split(":").pop() ?? "";
  if (!id.startsWith("prx-")) throw new Error(`not an RDS Proxy ARN: ${proxyArn}`);
  return id;
}

/** Creates the proxy's role, the proxy, its target group and its target (the instance). */
export function createRdsProxy(ctx: Ctx, args: RdsProxyArgs): RdsProxy {
  const p = { provider: ctx.home };
  const role = new aws.iam.Role(
    "DatabaseProxyRole",
    {
      name: ctx.name("db-proxy"),
      description: "Veil RDS Proxy: logs in to the database as veil_app with IAM tokens",
      assumeRolePolicy: policyJson({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "rds.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
          },
        ],
      }),
      maxSessionDuration: 3600,
    },
    p,
  );
  const policy = grant(ctx, "DatabaseProxyRolePolicy", role, [
    {
      Sid: "ConnectToTheInstanceAsAppUser",
      Effect: "Allow",
      Action: "rds-db:connect",
      Resource: [
        $interpolate`arn:aws:rds-db:${ctx.homeRegion}:${ctx.accountId}:dbuser:${args.instance.resourceId}/${appDbUser}`,
      ],
    },
  ]);
  const proxy = new aws.rds.Proxy(
    "DatabaseProxy",
    {
      name: ctx.name("db-proxy"),
      engineFamily: "POSTGRESQL",
      defaultAuthScheme: "IAM_AUTH",
      requireTls: true,
      debugLogging: false,
      idleClientTimeout: proxyPool.idleClientTimeoutSeconds,
      roleArn: role.arn,
      vpcSubnetIds: args.network.privateSubnetIds,
      vpcSecurityGroupIds: [args.network.proxySecurityGroup.id],
    },
    { ...p, dependsOn: [policy] },
  );
  const targetGroup = new aws.rds.ProxyDefaultTargetGroup(
    "DatabaseProxyTargetGroup",
    {
      dbProxyName: proxy.name,
      connectionPoolConfig: {
        maxConnectionsPercent: proxyPool.maxConnectionsPercent,
        maxIdleConnectionsPercent: proxyPool.maxIdleConnectionsPercent,
        connectionBorrowTimeout: proxyPool.connectionBorrowTimeoutSeconds,
      },
    },
    p,
  );
  const target = new aws.rds.ProxyTarget(
    "DatabaseProxyTarget",
    {
      dbProxyName: proxy.name,
      targetGroupName: targetGroup.name,
      dbInstanceIdentifier: args.instance.identifier,
    },
    p,
  );
  const connectArn = $interpolate`arn:aws:rds-db:${ctx.homeRegion}:${ctx.accountId}:dbuser:${proxy.arn.apply(proxyResourceId)}/${appDbUser}`;
  return { proxy, role, target, endpoint: proxy.endpoint, connectArn };
}
