/**
 * The RDS Proxy in the composed stack of each shared stage (Pulumi mocks): end-to-end IAM and TLS, its
 * role, the security-group chain functions → proxy → database, the functions' link and grants (IAM
 * simulated), and the deploy order.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../functions/manifest.ts";
import { resourceName } from "./functions.ts";
import { proxyPool, proxyResourceId } from "./rds-proxy.ts";
import { homeRegion } from "./stage.ts";
import { type Recorded, type Stack, testAccount } from "./test/harness.ts";
import { decide } from "./test/simulate.ts";
import { type SharedStage, sharedStages, synthesizeStages } from "./test/stages.ts";

const T = {
  proxy: "aws:rds/proxy:Proxy",
  targetGroup: "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
  target: "aws:rds/proxyTarget:ProxyTarget",
  db: "aws:rds/instance:Instance",
  sg: "aws:ec2/securityGroup:SecurityGroup",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  lambda: "aws:lambda/function:Function",
} as const;

/** The functions that query the database (their roles may connect, through the proxy only). */
const dataFunctions = [
  "records",
  "images-api",
  "images-download",
  "images-ingest",
  "images-cleanup",
  "account",
] as const;
/** The one function that logs in to the instance itself, as the master user (db-bootstrap.ts). */
const adminFunction = "db-bootstrap" as const;

it("covers every function of the manifest that reads the Database link", () => {
  const readers = Object.values(manifest)
    .filter((f) => (f.links as readonly string[]).includes("Database") && f.name !== adminFunction)
    .map((f) => f.name);
  expect([...dataFunctions].sort()).toEqual(readers.sort());
  for (const name of [...dataFunctions, adminFunction]) expect(manifest[name].vpc, name).toBe(true);
});

let stacks: Record<SharedStage, Stack>;
beforeAll(async () => {
  stacks = await synthesizeStages();
}, 240_000);

it("reads the resource id off a proxy ARN and refuses anything else", () => {
  expect(proxyResourceId("arn:aws:rds:eu-central-2:123456789012:db-proxy:prx-0abc")).toBe("prx-0abc");
  expect(() => proxyResourceId("arn:aws:rds:eu-central-2:123456789012:db:veil-dev-db")).toThrow();
});

for (const stageName of sharedStages) {
  describe(`${stageName}: RDS Proxy`, () => {
    let s: Stack;
    const n = (part: string) => `veil-${stageName}-${part}`;
    const roleArn = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;
    /** The role a function runs with (roles keep their own names: `records` runs as `…-api`). */
    const roleOf = (fnName: string): string => {
      const fn = s.ofType(T.lambda).find((f) => f.inputs.name === fnName);
      if (!fn) throw new Error(`no function ${fnName}`);
      return String(fn.inputs.role).split(":role/")[1] ?? "";
    };
    // biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
    const policyOf = (roleName: string): any[] =>
      s
        .ofType(T.rolePolicy)
        .filter((p) => p.inputs.role === roleName)
        .map((p) => JSON.parse(String(p.inputs.policy)));
    const proxy = (): Recorded => s.get(T.proxy, "DatabaseProxy");
    const instance = (): Recorded => s.get(T.db, "Database");
    const dbUserArn = (resourceId: string, user: string) =>
      `arn:aws:rds-db:${homeRegion}:${testAccount}:dbuser:${resourceId}/${user}`;
    const proxyUser = (user: string) => dbUserArn(proxyResourceId(String(proxy().state.arn)), user);
    const instanceUser = (user: string) => dbUserArn(String(instance().state.resourceId), user);
    const group = (name: string) => s.get(T.sg, name).id;
    const ingressFrom = (name: string) =>
      (s.get(T.sg, name).inputs.ingress ?? []).flatMap(
        (r: { securityGroups?: string[]; cidrBlocks?: string[] }) => [
          ...(r.securityGroups ?? []),
          ...(r.cidrBlocks ?? []),
        ],
      );

    beforeAll(() => {
      s = stacks[stageName];
    });

    it("uses IAM end to end and requires TLS: no password, no secret, no debug log of SQL", () => {
      const inputs = proxy().inputs;
      expect(inputs).toMatchObject({
        name: n("db-proxy"),
        engineFamily: "POSTGRESQL",
        defaultAuthScheme: "IAM_AUTH",
        requireTls: true,
        debugLogging: false,
        roleArn: roleArn(n("db-proxy")),
      });
      expect(inputs.auths ?? []).toEqual([]);
      expect(proxy().region).toBe(homeRegion);
      // IAM end to end needs IAM auth on the instance too, and its TLS stays forced.
      expect(instance().inputs.iamDatabaseAuthenticationEnabled).toBe(true);
      const params = s.get("aws:rds/parameterGroup:ParameterGroup", "DatabaseParameters").inputs.parameters;
      expect(params).toContainEqual({ name: "rds.force_ssl", value: "1" });
    });

    it("fronts the one instance with a bounded pool that answers within the functions' connect timeout", () => {
      const targetGroup = s.get(T.targetGroup, "DatabaseProxyTargetGroup").inputs;
      expect(targetGroup.dbProxyName).toBe(n("db-proxy"));
      expect(targetGroup.connectionPoolConfig).toMatchObject({
        maxConnectionsPercent: proxyPool.maxConnectionsPercent,
        maxIdleConnectionsPercent: proxyPool.maxIdleConnectionsPercent,
        connectionBorrowTimeout: proxyPool.connectionBorrowTimeoutSeconds,
      });
      expect(proxyPool.maxConnectionsPercent).toBeLessThan(100); // room for the bootstrap and an operator
      expect(proxyPool.connectionBorrowTimeoutSeconds).toBeLessThanOrEqual(5); // @veil/db connects within 5 s
      const target = s.get(T.target, "DatabaseProxyTarget").inputs;
      expect(target).toMatchObject({ dbProxyName: n("db-proxy"), dbInstanceIdentifier: n("db") });
    });

    it("sits in the private subnets behind its own security group", () => {
      const privateSubnets = s
        .ofType("aws:ec2/subnet:Subnet")
        .filter((r) => r.name.startsWith("PrivateSubnet"))
        .map((r) => r.id);
      expect([...proxy().inputs.vpcSubnetIds].sort()).toEqual(privateSubnets.sort());
      expect(proxy().inputs.vpcSecurityGroupIds).toEqual([group("ProxySecurityGroup")]);
    });

    it("chains the security groups: functions → proxy → database, nothing else reaches PostgreSQL", () => {
      expect(ingressFrom("ProxySecurityGroup")).toEqual([group("FunctionSecurityGroup")]);
      expect(ingressFrom("DatabaseSecurityGroup").sort()).toEqual(
        [group("ProxySecurityGroup"), group("DatabaseAdminSecurityGroup")].sort(),
      );
      expect(ingressFrom("DatabaseSecurityGroup")).not.toContain(group("FunctionSecurityGroup"));
      for (const rule of s.get(T.sg, "DatabaseSecurityGroup").inputs.ingress)
        expect(rule).toMatchObject({ protocol: "tcp", fromPort: 5432, toPort: 5432 });
      // Only the deploy-time bootstrap sits in the admin group; every data function in the functions' one.
      const inGroup = (id: string) =>
        s
          .ofType(T.lambda)
          .filter((f) => (f.inputs.vpcConfig?.securityGroupIds ?? []).includes(id))
          .map((f) => String(f.inputs.name));
      expect(inGroup(group("DatabaseAdminSecurityGroup"))).toEqual([n(adminFunction)]);
      expect(inGroup(group("FunctionSecurityGroup")).sort()).toEqual(dataFunctions.map(n).sort());
    });

    it("gives the proxy a role that may log in to the instance as veil_app and nothing more", async () => {
      const trust = JSON.parse(String(s.get(T.role, "DatabaseProxyRole").inputs.assumeRolePolicy));
      expect(trust.Statement).toEqual([
        expect.objectContaining({
          Effect: "Allow",
          Principal: { Service: "rds.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": testAccount } },
        }),
      ]);
      const ask = (action: string, resource: string) =>
        decide({ role: roleArn(n("db-proxy")), identity: policyOf(n("db-proxy")), action, resource });
      expect(await ask("rds-db:connect", instanceUser("veil_app"))).toBe("Allowed");
      expect(await ask("rds-db:connect", instanceUser("veil_master"))).toBe("ImplicitlyDenied");
      expect(await ask("rds-db:connect", proxyUser("veil_app"))).toBe("ImplicitlyDenied");
      const masterSecret = String(instance().state.masterUserSecrets[0].secretArn);
      expect(await ask("secretsmanager:GetSecretValue", masterSecret)).toBe("ImplicitlyDenied");
    });

    it("links the functions to the proxy's endpoint, the host their IAM tokens are signed for", () => {
      const endpoint = String(proxy().state.endpoint);
      expect(endpoint).toContain(".proxy-");
      for (const id of dataFunctions.map((f) => resourceName(manifest[f]))) {
        expect(s.builds[id], id).toBeDefined();
        const link = s.builds[id].links.Database;
        expect(link.host, id).toBe(endpoint);
        expect(link.username, id).toBe("veil_app");
      }
    });

    it("lets each data function connect to the proxy as veil_app only, never to the instance (simulated)", async () => {
      for (const fn of dataFunctions) {
        const role = roleOf(n(fn));
        const ask = (resource: string) =>
          decide({ role: roleArn(role), identity: policyOf(role), action: "rds-db:connect", resource });
        expect(await ask(proxyUser("veil_app")), fn).toBe("Allowed");
        expect(await ask(instanceUser("veil_app")), fn).toBe("ImplicitlyDenied");
        expect(await ask(proxyUser("veil_master")), fn).toBe("ImplicitlyDenied");
      }
      for (const other of ["rotate-api-key", "fle-key-bootstrap", adminFunction] as const) {
        const role = roleOf(n(other));
        expect(
          await decide({
            role: roleArn(role),
            identity: policyOf(role),
            action: "rds-db:connect",
            resource: proxyUser("veil_app"),
          }),
          other,
        ).toBe("ImplicitlyDenied");
      }
    });

    it("puts traffic on the database only once the proxy's target is registered", () => {
      const target = s.get(T.target, "DatabaseProxyTarget");
      for (const [type, name] of [
        ["aws:apigateway/stage:Stage", "ApiStage"],
        ["aws:s3/bucketNotification:BucketNotification", "InboxNotification"],
        ["aws:cloudwatch/eventRule:EventRule", "ImagesCleanupSchedule"],
      ] as const)
        expect(s.orderedAfter(s.get(type, name), target), name).toBe(true);
    });
  });
}
