/**
 * The database bootstrap in the composed stack (dev, under Pulumi mocks): the deploy-time invocation,
 * its trigger, where the function runs, and who may read the RDS master secret (simulated IAM).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { dbBootstrapHandler, dbSetupHash, dbSetupSources } from "./db-bootstrap.ts";
import { repoRoot, type Stack, synthesize, testAccount } from "./test/harness.ts";
import { decide } from "./test/simulate.ts";
import { type SharedStack, sharedStack, sharedStages } from "./test/stages.ts";

const T = {
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  lambda: "aws:lambda/function:Function",
  invocation: "aws:lambda/invocation:Invocation",
  db: "aws:rds/instance:Instance",
  sg: "aws:ec2/securityGroup:SecurityGroup",
} as const;
const n = (part: string) => `veil-dev-${part}`;
const roleArn = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;

describe("dev: database bootstrap", () => {
  let s: Stack;
  let masterSecretArn: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
  const policyOf = (roleName: string): any[] =>
    s
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role === roleName)
      .map((p) => JSON.parse(String(p.inputs.policy)));
  beforeAll(async () => {
    s = await synthesize("dev");
    masterSecretArn = String(s.get(T.db, "Database").state.masterUserSecrets?.[0]?.secretArn);
  }, 120_000);

  it("invokes the bootstrap at deploy time, again when the migrations, the grants or the instance change", () => {
    const hash = dbSetupHash(repoRoot);
    const invocation = s.get(T.invocation, "DbBootstrap").inputs;
    expect(invocation.functionName).toBe(n("db-bootstrap"));
    expect(JSON.parse(invocation.input)).toEqual({ action: "migrate", migrationsHash: hash });
    expect(invocation.triggers).toEqual({ setup: hash, database: s.get(T.db, "Database").state.resourceId });
  });

  it("hashes every source of the schema and the role model: changing any one changes the hash", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-db-hash-"));
    try {
      for (const file of dbSetupSources) {
        mkdirSync(dirname(join(root, file)), { recursive: true });
        cpSync(join(repoRoot, file), join(root, file));
      }
      const base = dbSetupHash(root);
      expect(base).toBe(dbSetupHash(repoRoot));
      for (const file of dbSetupSources) {
        cpSync(join(repoRoot, file), join(root, file));
        writeFileSync(join(root, file), "// another migration\n", { flag: "a" });
        expect(dbSetupHash(root), file).not.toBe(base);
        cpSync(join(repoRoot, file), join(root, file));
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("runs in AWS inside the VPC, in the one group besides the proxy's that the database admits", () => {
    const fn = s.get(T.lambda, "DbBootstrapFunction");
    expect(fn.inputs.role).toBe(roleArn(n("db-bootstrap")));
    const adminGroup = s.get(T.sg, "DatabaseAdminSecurityGroup").id;
    expect(fn.inputs.vpcConfig.securityGroupIds).toEqual([adminGroup]);
    const ingress = s.get(T.sg, "DatabaseSecurityGroup").inputs.ingress;
    expect(ingress.flatMap((r: { securityGroups: string[] }) => r.securityGroups).sort()).toEqual(
      [adminGroup, s.get(T.sg, "ProxySecurityGroup").id].sort(),
    );
    const build = s.builds.DbBootstrap;
    expect(build.handler).toBe(dbBootstrapHandler);
    expect(Object.keys(build.links).sort()).toEqual(["Database", "DatabaseMaster"]);
    expect(build.links.DatabaseMaster.secretArn).toBe(masterSecretArn);
    // The master user logs in to the instance itself: the proxy takes IAM logins only.
    expect(build.links.DatabaseMaster.host).toBe(s.get(T.db, "Database").state.address);
  });

  it("lets its role read the master secret and nothing else of value", async () => {
    expect(masterSecretArn).toMatch(/^arn:aws:secretsmanager:eu-central-2:\d+:secret:rds!db-/);
    const ask = (action: string, resource: string) =>
      decide({
        role: roleArn(n("db-bootstrap")),
        identity: policyOf(n("db-bootstrap")),
        action,
        resource,
      });
    expect(await ask("secretsmanager:GetSecretValue", masterSecretArn)).toBe("Allowed");
    const fleSecret = String(
      s.ofType("aws:secretsmanager/secret:Secret").find((r) => r.name === "FlePrivateKey")?.state.arn,
    );
    const dataKey = String(s.get("aws:kms/key:Key", "DataKey").state.arn);
    for (const [action, resource] of [
      ["secretsmanager:GetSecretValue", fleSecret],
      ["secretsmanager:PutSecretValue", masterSecretArn],
      ["kms:Decrypt", dataKey],
      ["rds-db:connect", `arn:aws:rds-db:eu-central-2:${testAccount}:dbuser:db-TESTRESOURCEID/veil_app`],
    ] as const)
      expect(await ask(action, resource), `${action} ${resource}`).toBe("ImplicitlyDenied");
  });

  it("is the only role that may read the master secret", async () => {
    const others = [...new Set(s.ofType(T.rolePolicy).map((p) => String(p.inputs.role)))].filter(
      (r) => r !== n("db-bootstrap"),
    );
    expect(others).toEqual(expect.arrayContaining([n("api"), n("ingest")]));
    for (const role of others)
      expect(
        await decide({
          role: roleArn(role),
          identity: policyOf(role),
          action: "secretsmanager:GetSecretValue",
          resource: masterSecretArn,
          // What a reader of the current version sends: conditions on the stage must not hide a grant.
          context: { "secretsmanager:VersionStage": "AWSCURRENT" },
        }),
        role,
      ).not.toBe("Allowed");
  });
});

/**
 * The database bootstrap's place in the deploy order, on each shared stage.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: database bootstrap first`, () => {
    const bootstrap = () => s.get("aws:lambda/invocation:Invocation", "DbBootstrap");

    it("puts the API stage, the inbox notification and the cleanup schedule live only after it", () => {
      // What makes a function run against the database: without the schema and `veil_app`, it fails.
      for (const [type, name] of [
        ["aws:apigateway/stage:Stage", "ApiStage"],
        ["aws:s3/bucketNotification:BucketNotification", "InboxNotification"],
        ["aws:cloudwatch/eventRule:EventRule", "ImagesCleanupSchedule"],
        ["aws:cloudwatch/eventTarget:EventTarget", "ImagesCleanupTarget"],
      ] as const)
        expect(s.orderedAfter(s.get(type, name), bootstrap()), name).toBe(true);
    });

    it("leaves the functions and the API's routes free to build alongside it", () => {
      // The check sees real dependencies: the invocation itself waits for its role's policy.
      expect(s.orderedAfter(bootstrap(), s.get(T.rolePolicy, "DbBootstrapRolePolicy"))).toBe(true);
      const dataFunctions = s
        .ofType(T.lambda)
        .filter((f) =>
          ["records", "images-ingest", "images-api", "images-download", "images-cleanup", "account"].includes(
            String(f.inputs.name).replace(`veil-${stageName}-`, ""),
          ),
        );
      expect(dataFunctions).toHaveLength(6);
      for (const r of [...dataFunctions, ...s.ofType("aws:apigateway/deployment:Deployment")])
        expect(s.orderedAfter(r, bootstrap()), r.name).toBe(false);
    });
  });
}
