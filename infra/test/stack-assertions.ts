/**
 * Every infra control, asserted on the resource inputs recorded while `sst.config.ts` runs a
 * stage under Pulumi mocks. One suite, run by stack-<stage>.test.ts for dev, sit and prod; expectations
 * that differ by stage read them from infra/stage.ts.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { encryptionPurposes, fleFields, imageRoutes, recordRoutes } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { functionNames, manifest, productionDefine } from "../../functions/manifest.ts";
import { managedPolicies, managedRuleGroups } from "../cdn.ts";
import { resourceName, sstHandler } from "../functions.ts";
import { ingestRetryAttempts } from "../grants.ts";
import { imageCleanupSchedule } from "../image-cleanup.ts";
import { keyUseActions } from "../kms.ts";
import { maskedDataIdentifiers } from "../logs.ts";
import { edgeRegion, homeRegion, type StageConfig, stageConfig } from "../stage.ts";
import { type Recorded, repoRoot, type Stack, synthesize, testAccount } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";

const T = {
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  bucket: "aws:s3/bucket:Bucket",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  lambda: "aws:lambda/function:Function",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  dataProtection: "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy",
  db: "aws:rds/instance:Instance",
  distribution: "aws:cloudfront/distribution:Distribution",
} as const;

/** The edge signer's log groups and their key: in us-east-1, where CloudWatch keeps Lambda@Edge logs. */
const edgeLogs = ["EdgeLogsKey", "EdgeSignerLogGroup", "EdgeSignerReplicaLogGroup"];

/** Types that hold customer data or its keys, logs or audit trail: they must live in the home region. */
const dataBearing = [
  "aws:kms/key:Key",
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "aws:secretsmanager/secret:Secret",
  "aws:cognito/userPool:UserPool",
  "aws:cloudwatch/logGroup:LogGroup",
  "aws:sns/topic:Topic",
  "aws:cloudtrail/trail:Trail",
  "aws:ec2/vpc:Vpc",
  "aws:apigateway/restApi:RestApi",
];

// biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
type Doc = { Statement: any[] };
const parse = (s: unknown): Doc => JSON.parse(String(s)) as Doc;
const asArray = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const roleArn = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;

/** Registers the suite for one stage. */
export function describeStack(stageName: "dev" | "sit" | "prod"): void {
  const stage: StageConfig = stageConfig(stageName);
  const n = (part: string) => `veil-${stageName}-${part}`;
  let s: Stack;
  let dataKeyArn: string;
  let logsKeyArn: string;
  const policyOf = (roleName: string): Doc[] =>
    s
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role === roleName)
      .map((p) => parse(p.inputs.policy));
  const bucketByPrefix = (part: string): Recorded => {
    const b = s.ofType(T.bucket).find((r) => String(r.inputs.bucketPrefix).startsWith(`${n(part)}-`));
    if (!b) throw new Error(`no bucket ${part}`);
    return b;
  };
  const bucketArn = (b: Recorded) => String(b.state.arn);
  /** The path of an API Gateway resource id, from the recorded resources. */
  const pathOf = (id: string): string => {
    const resource = s.ofType("aws:apigateway/resource:Resource").find((r) => r.id === id);
    if (!resource) return "";
    return `${pathOf(resource.inputs.parentId)}/${resource.inputs.pathPart}`;
  };
  const integrationOf = (method: string, path: string) => {
    const found = s
      .ofType("aws:apigateway/integration:Integration")
      .filter((i) => i.inputs.httpMethod === method && pathOf(i.inputs.resourceId) === path);
    expect(found, `${method} ${path}`).toHaveLength(1);
    return found[0]!.inputs;
  };
  const forBucket = (type: string, b: Recorded) => s.ofType(type).filter((r) => r.name.startsWith(b.name));

  const codeSigning = "arn:aws:lambda:eu-central-2:123456789012:code-signing-config:csc-0123456789abcdef0";
  const edgeBundle = join(repoRoot, ".sst", "artifacts", `edge-signer-${stageName}`, "index.mjs");

  beforeAll(async () => {
    rmSync(edgeBundle, { force: true });
    s = await synthesize(stageName, { VEIL_CODE_SIGNING_CONFIG_ARN: codeSigning });
    dataKeyArn = String(s.get(T.key, "DataKey").state.arn);
    logsKeyArn = String(s.get(T.key, "LogsKey").state.arn);
  }, 120_000);

  describe(`${stageName}: stage settings`, () => {
    it("uses the stage's removal and protection", () => {
      expect(s.outputs._protect).toBe(stage.protect);
      expect(stage.removal).toBe(stageName === "prod" ? "retain" : "remove");
    });

    it("protects and retains data-bearing resources exactly in prod", () => {
      const kept = [
        s.get(T.key, "DataKey"),
        s.get(T.key, "LogsKey"),
        s.get(T.db, "Database"),
        s.get("aws:cognito/userPool:UserPool", "UserPool"),
        s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey"),
        bucketByPrefix("images"),
        bucketByPrefix("inbox"),
        bucketByPrefix("log-archive"),
      ];
      for (const r of kept) {
        expect(Boolean(r.opts.protect), r.name).toBe(stageName === "prod");
        expect(Boolean(r.opts.retainOnDelete), r.name).toBe(stageName === "prod");
      }
    });
  });

  describe(`${stageName}: regions`, () => {
    it("creates every data-bearing resource in the home region (but the edge signer's own logs)", () => {
      const outside = s.resources.filter(
        (r) => dataBearing.includes(r.type) && r.region !== homeRegion && !edgeLogs.includes(r.name),
      );
      expect(outside.map((r) => `${r.type} ${r.name} ${r.region}`)).toEqual([]);
    });

    it("puts only the edge function, the WAF ACL, the certificate (and Shield) in us-east-1", () => {
      const inEdge = s.resources.filter((r) => r.region === edgeRegion).map((r) => `${r.type}::${r.name}`);
      const allowed = [
        "aws:lambda/function:Function::EdgeSigner",
        "aws:wafv2/webAcl:WebAcl::WebAcl",
        "aws:acm/certificate:Certificate::Certificate",
        "aws:acm/certificateValidation:CertificateValidation::CertificateValidation",
        "aws:shield/protection:Protection::ShieldAdvanced",
        // Its logs, which CloudWatch keeps in us-east-1, encrypted with a key of that region (edge.ts).
        "aws:kms/key:Key::EdgeLogsKey",
        "aws:cloudwatch/logGroup:LogGroup::EdgeSignerLogGroup",
        "aws:cloudwatch/logGroup:LogGroup::EdgeSignerReplicaLogGroup",
        `${T.dataProtection}::EdgeSignerLogGroupDataProtection`,
        `${T.dataProtection}::EdgeSignerReplicaLogGroupDataProtection`,
      ];
      expect(inEdge.filter((r) => !allowed.includes(r))).toEqual([]);
      expect(inEdge).toContain("aws:lambda/function:Function::EdgeSigner");
      expect(inEdge).toContain("aws:wafv2/webAcl:WebAcl::WebAcl");
      expect(inEdge).toContain("aws:acm/certificate:Certificate::Certificate");
      const regions = new Set(s.resources.map((r) => r.region));
      expect([...regions].sort()).toEqual([edgeRegion, homeRegion].sort());
    });
  });

  describe(`${stageName}: KMS`, () => {
    it("is a rotating customer-managed symmetric key with an alias", () => {
      const key = s.get(T.key, "DataKey").inputs;
      expect(key).toMatchObject({
        keyUsage: "ENCRYPT_DECRYPT",
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        enableKeyRotation: true,
        multiRegion: false,
      });
      expect(key.bypassPolicyLockoutSafetyCheck).not.toBe(true);
      const alias = s.get(T.alias, "DataKeyAlias").inputs;
      expect(alias.name).toBe(`alias/${n("data")}`);
    });

    it("grants key use to the function roles only, the image functions for images only", () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const useActions = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
      ];
      const users = doc.Statement.filter((st) =>
        asArray(st.Action).some((a: string) => useActions.includes(a)),
      );
      // Unconditioned use: the records function alone.
      const unconditioned = users.filter((st) => !st.Condition);
      expect(unconditioned).toHaveLength(1);
      expect(asArray(unconditioned[0].Principal.AWS)).toEqual([roleArn(n("api"))]);
      expect(asArray(unconditioned[0].Action).sort()).toEqual([...keyUseActions].sort());
      // Every other use is bound to images (purpose), to S3 on the images bucket or to Secrets Manager
      // on the FLE secret, and belongs to the ingest, the download or the FLE bootstrap.
      const conditioned = users.filter((st) => st.Condition);
      const who = new Set(conditioned.flatMap((st) => asArray(st.Principal.AWS)));
      // With the account baseline, Macie's service-linked role reads the images bucket through S3.
      const scanner = `arn:aws:iam::${testAccount}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`;
      expect([...who].sort()).toEqual(
        [
          roleArn(n("ingest")),
          roleArn(n("images-download")),
          roleArn(n("fle-bootstrap")),
          ...(stage.accountBaseline ? [scanner] : []),
        ].sort(),
      );
      for (const st of conditioned) {
        const equals = st.Condition.StringEquals ?? {};
        const via = equals["kms:ViaService"];
        if (via === undefined) {
          expect(equals, st.Sid).toEqual({ "kms:EncryptionContext:purpose": encryptionPurposes.recordImage });
        } else if (via === `s3.${homeRegion}.amazonaws.com`) {
          expect(st.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], st.Sid).toEqual([
            `arn:aws:s3:::${n("images")}-*`,
          ]);
        } else {
          expect(via, st.Sid).toBe(`secretsmanager.${homeRegion}.amazonaws.com`);
          expect(st.Condition.StringLike["kms:EncryptionContext:SecretARN"], st.Sid).toEqual([
            expect.stringContaining(`:secret:${n("fle-private-key")}`),
          ]);
        }
      }
      // Only the ingest may make data keys for images; the download may only decrypt.
      const actionsOf = (role: string) =>
        new Set(
          conditioned
            .filter((st) => asArray(st.Principal.AWS).includes(roleArn(role)))
            .flatMap((st) => asArray(st.Action) as string[]),
        );
      expect([...actionsOf(n("images-download"))]).toEqual(["kms:Decrypt"]);
      expect([...actionsOf(n("ingest"))].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
      expect(JSON.stringify(doc)).not.toContain(roleArn(n("images-api")));
    });

    it("lets the admin role manage but not use the key, and delegates nothing to IAM", async () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const admin = roleArn(`veil-deploy-${stageName}`);
      const q = { resource: dataKeyArn, resourcePolicy: doc, identity: [allowAll] };
      expect(await decide({ ...q, role: admin, action: "kms:PutKeyPolicy" })).toBe("Allowed");
      for (const action of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"])
        expect(await decide({ ...q, role: admin, action }), action).not.toBe("Allowed");
      expect(await decide({ ...q, role: admin, action: "kms:CreateGrant" })).not.toBe("Allowed");
      const root = doc.Statement.filter((st) => JSON.stringify(st.Principal).includes(":root"));
      for (const st of root) {
        expect(asArray(st.Action)).not.toContain("kms:*");
        expect(st.Condition.StringEquals["aws:PrincipalType"]).toBe("Account");
      }
    });

    it("lets the API role decrypt and denies a developer role holding kms:*", async () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const q = { resource: dataKeyArn, resourcePolicy: doc };
      expect(
        await decide({ ...q, role: roleArn(n("api")), action: "kms:Decrypt", identity: policyOf(n("api")) }),
      ).toBe("Allowed");
      expect(
        await decide({
          ...q,
          role: roleArn(n("ingest")),
          action: "kms:GenerateDataKey",
          identity: policyOf(n("ingest")),
          context: { "kms:EncryptionContext:purpose": encryptionPurposes.recordImage },
        }),
      ).toBe("Allowed");
      for (const role of [
        "veil-developer",
        n("rotate-api-key"),
        n("fle-bootstrap"),
        n("edge-signer"),
        n("images-api"),
        n("images-cleanup"),
      ])
        expect(
          await decide({ ...q, role: roleArn(role), action: "kms:Decrypt", identity: [allowAll] }),
          role,
        ).not.toBe("Allowed");
      expect(
        await decide({
          ...q,
          role: roleArn("veil-developer"),
          action: "kms:PutKeyPolicy",
          identity: [allowAll],
        }),
      ).not.toBe("Allowed");
    });
  });

  describe(`${stageName}: KMS for the image functions (simulated, key policy and identity policy)`, () => {
    const image = { "kms:EncryptionContext:purpose": encryptionPurposes.recordImage };
    const fields = { "kms:EncryptionContext:purpose": encryptionPurposes.recordFields };
    const ask = (role: string, action: string, context: Record<string, string> = {}) =>
      decide({
        role: roleArn(n(role)),
        identity: policyOf(n(role)),
        action,
        resource: dataKeyArn,
        resourcePolicy: parse(s.get(T.key, "DataKey").inputs.policy),
        context,
      });
    const viaS3 = (bucket: string) => ({
      "kms:ViaService": `s3.${homeRegion}.amazonaws.com`,
      "kms:EncryptionContext:aws:s3:arn": bucketArn(bucketByPrefix(bucket)),
    });

    it("the download may decrypt images only: purpose record.image, or the images bucket through S3", async () => {
      expect(await ask("images-download", "kms:Decrypt", image)).toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt")).not.toBe("Allowed");
      expect(await ask("images-download", "kms:GenerateDataKey", image)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Encrypt", image)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", viaS3("images"))).toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", viaS3("inbox"))).not.toBe("Allowed");
    });

    it("the ingest may make data keys for images and read the FLE secret, never decrypt an image", async () => {
      expect(await ask("ingest", "kms:GenerateDataKey", image)).toBe("Allowed");
      expect(await ask("ingest", "kms:GenerateDataKey", fields)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", image)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:GenerateDataKey", viaS3("images"))).toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", viaS3("images"))).toBe("Allowed");
      const secretArn = String(s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey").state.arn);
      const viaSecrets = { "kms:ViaService": `secretsmanager.${homeRegion}.amazonaws.com` };
      expect(
        await ask("ingest", "kms:Decrypt", { ...viaSecrets, "kms:EncryptionContext:SecretARN": secretArn }),
      ).toBe("Allowed");
      expect(
        await ask("ingest", "kms:Decrypt", {
          ...viaSecrets,
          "kms:EncryptionContext:SecretARN": secretArn.replace("fle-private-key", "other"),
        }),
      ).not.toBe("Allowed");
    });

    it("the identity policies carry the same limits (were the key ever delegated to IAM)", async () => {
      // With the account-root statement of AWS's default key policy, IAM policies decide.
      const keyAllowsEverything = (_role: string) => ({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${testAccount}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      });
      const askIdentity = (role: string, action: string, context: Record<string, string> = {}) =>
        decide({
          role: roleArn(n(role)),
          identity: policyOf(n(role)),
          action,
          resource: dataKeyArn,
          resourcePolicy: keyAllowsEverything(role),
          context,
        });
      expect(await askIdentity("images-download", "kms:Decrypt", image)).toBe("Allowed");
      expect(await askIdentity("images-download", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await askIdentity("images-download", "kms:Decrypt", viaS3("inbox"))).not.toBe("Allowed");
      expect(await askIdentity("ingest", "kms:GenerateDataKey", image)).toBe("Allowed");
      expect(await askIdentity("ingest", "kms:GenerateDataKey", fields)).not.toBe("Allowed");
      expect(await askIdentity("ingest", "kms:Decrypt", image)).not.toBe("Allowed");
      expect(await askIdentity("images-api", "kms:Decrypt", image)).not.toBe("Allowed");
    });

    it("the images API may not use the key at all", async () => {
      for (const action of ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]) {
        expect(await ask("images-api", action, image), action).not.toBe("Allowed");
        expect(await ask("images-api", action, viaS3("inbox")), action).not.toBe("Allowed");
      }
    });
  });

  describe(`${stageName}: RDS PostgreSQL`, () => {
    it("is encrypted with the key, private, IAM-authenticated, backed up, TLS-only", () => {
      const db = s.get(T.db, "Database").inputs;
      expect(db).toMatchObject({
        engine: "postgres",
        storageEncrypted: true,
        iamDatabaseAuthenticationEnabled: true,
        publiclyAccessible: false,
        manageMasterUserPassword: true,
        backupRetentionPeriod: stage.database.backupRetentionDays,
        deletionProtection: stageName === "prod",
        multiAz: stage.database.multiAz,
      });
      expect(db.kmsKeyId).toBe(dataKeyArn);
      expect(db.password).toBeUndefined();
      expect(db.backupRetentionPeriod).toBeGreaterThan(0); // point-in-time recovery needs automated backups
      const params = s.get("aws:rds/parameterGroup:ParameterGroup", "DatabaseParameters").inputs.parameters;
      expect(params).toContainEqual(expect.objectContaining({ name: "rds.force_ssl", value: "1" }));
      expect(db.parameterGroupName).toBe(n("pg17"));
    });

    it("sits in private subnets reachable only from the proxy's and the bootstrap's security groups", () => {
      const subnets = s.get("aws:rds/subnetGroup:SubnetGroup", "DatabaseSubnets").inputs
        .subnetIds as string[];
      const privateIds = s.ofType("aws:ec2/subnet:Subnet").filter((r) => r.name.startsWith("PrivateSubnet"));
      expect(subnets).toHaveLength(privateIds.length);
      for (const subnet of privateIds) expect(subnet.inputs.mapPublicIpOnLaunch).toBe(false);
      const sg = s.get("aws:ec2/securityGroup:SecurityGroup", "DatabaseSecurityGroup").inputs;
      expect(sg.ingress).toHaveLength(1);
      expect(sg.ingress[0]).toMatchObject({ fromPort: 5432, toPort: 5432 });
      expect(sg.ingress[0].cidrBlocks ?? []).toEqual([]);
    });

    it("lets the functions connect with IAM tokens only, never with the master secret", () => {
      for (const role of [
        n("api"),
        n("images-api"),
        n("images-download"),
        n("ingest"),
        n("images-cleanup"),
      ]) {
        const statements = policyOf(role).flatMap((d) => d.Statement);
        const connect = statements.filter((st) => asArray(st.Action).includes("rds-db:connect"));
        expect(connect).toHaveLength(1);
        expect(asArray(connect[0].Resource)[0]).toMatch(
          /^arn:aws:rds-db:eu-central-2:\d+:dbuser:prx-\w+\/veil_app$/,
        );
        const secrets = statements.filter((st) =>
          asArray(st.Action).some((a: string) => a.startsWith("secretsmanager:")),
        );
        const ownSecrets = new RegExp(`:secret:(${n("fle-private-key")}|${n("idempotency-key")})-`);
        for (const st of secrets) expect(asArray(st.Resource)).toEqual([expect.stringMatching(ownSecrets)]);
      }
      const link = s.builds.Records.links.Database;
      expect(Object.keys(link).sort()).toEqual(["database", "host", "port", "type", "username"]);
      expect(link.username).toBe("veil_app");
    });
  });

  describe(`${stageName}: S3 data buckets`, () => {
    const sseOf = (b: Recorded) =>
      forBucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        b,
      )[0]!.inputs.rules[0];
    const lifecycleOf = (b: Recorded) =>
      forBucket("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", b)[0]!.inputs.rules;
    const corsOf = (b: Recorded) => forBucket("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration", b);

    for (const part of ["images", "inbox"] as const) {
      it(`${part}: blocks public access, versions, logs to the access-log bucket`, () => {
        const b = bucketByPrefix(part);
        const pab = forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)[0]!.inputs;
        expect(pab).toMatchObject({
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        });
        expect(
          forBucket("aws:s3/bucketVersioning:BucketVersioning", b)[0]!.inputs.versioningConfiguration.status,
        ).toBe("Enabled");
        const logging = forBucket("aws:s3/bucketLogging:BucketLogging", b)[0]!.inputs;
        const logBucket = bucketByPrefix("access-logs");
        expect(logging.targetBucket).not.toBe(logging.bucket);
        expect(logging.targetBucket).toBe(logBucket.id);
      });
    }

    it("images: SSE-KMS with the data key and bucket keys; deleted versions kept for the retention, then gone", () => {
      const b = bucketByPrefix("images");
      const sse = sseOf(b);
      expect(sse.applyServerSideEncryptionByDefault).toEqual({
        sseAlgorithm: "aws:kms",
        kmsMasterKeyId: dataKeyArn,
      });
      expect(sse.bucketKeyEnabled).toBe(true);
      const rules = lifecycleOf(b);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({
        status: "Enabled",
        filter: {},
        noncurrentVersionExpiration: { noncurrentDays: stage.storage.noncurrentVersionDays },
        expiration: { expiredObjectDeleteMarker: true },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      });
      // Current images never expire: only what a delete or an overwrite made noncurrent.
      expect(rules[0].expiration.days).toBeUndefined();
      expect(stage.storage.noncurrentVersionDays).toBeGreaterThanOrEqual(7);
      // Browsers never reach the images bucket: downloads stream through the API.
      expect(corsOf(b)).toEqual([]);
    });

    it("inbox: SSE-S3, everything expires after a day, PUT from the site's origin only", () => {
      const b = bucketByPrefix("inbox");
      expect(sseOf(b).applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
      const rules = lifecycleOf(b);
      expect(rules).toHaveLength(1);
      expect(rules[0]).toMatchObject({
        status: "Enabled",
        filter: {},
        expiration: { days: 1 },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      });
      const cors = corsOf(b);
      expect(cors).toHaveLength(1);
      expect(cors[0]!.inputs.corsRules).toEqual([
        expect.objectContaining({
          allowedOrigins: [`https://${stage.domain}`],
          allowedMethods: ["PUT"],
        }),
      ]);
      expect(JSON.stringify(cors[0]!.inputs.corsRules)).not.toContain("*");
    });

    // What each role may do on objects, with its identity policy and the bucket policy together.
    const onObject = async (role: string, action: string, bucket: "images" | "inbox", key: string) => {
      const b = bucketByPrefix(bucket);
      return decide({
        role: roleArn(role),
        identity: policyOf(role),
        action,
        resource: `${bucketArn(b)}/${key}`,
        resourcePolicy: parse(forBucket(T.bucketPolicy, b)[0]!.inputs.policy),
      });
    };

    it("each function role may do exactly its row of the images table on objects (simulated)", async () => {
      const expectations: [string, string, "images" | "inbox", string, boolean][] = [
        // images API: presigns inbox PUTs, nothing else.
        [n("images-api"), "s3:PutObject", "inbox", "inbox/o/r/i", true],
        [n("images-api"), "s3:PutObject", "inbox", "other/o/r/i", false],
        [n("images-api"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
        [n("images-api"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("images-api"), "s3:PutObject", "images", "images/o/r/i", false],
        // download: reads stored images, nothing else.
        [n("images-download"), "s3:GetObject", "images", "images/o/r/i", true],
        [n("images-download"), "s3:GetObjectVersion", "images", "images/o/r/i", false],
        [n("images-download"), "s3:PutObject", "images", "images/o/r/i", false],
        [n("images-download"), "s3:DeleteObject", "images", "images/o/r/i", false],
        [n("images-download"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
        // ingest: consumes the inbox, writes images, removes only the versions it handled.
        [n("ingest"), "s3:GetObject", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:GetObjectVersion", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:DeleteObjectVersion", "inbox", "inbox/o/r/i", true],
        [n("ingest"), "s3:PutObject", "images", "images/o/r/i", true],
        [n("ingest"), "s3:AbortMultipartUpload", "images", "images/o/r/i", true],
        [n("ingest"), "s3:DeleteObjectVersion", "images", "images/o/r/i", true],
        [n("ingest"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("ingest"), "s3:PutObject", "inbox", "inbox/o/r/i", false],
        // cleanup: deletes the stored images of erased records (a delete marker), reads none.
        [n("images-cleanup"), "s3:DeleteObject", "images", "images/o/r/i", true],
        [n("images-cleanup"), "s3:DeleteObjectVersion", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:PutObject", "images", "images/o/r/i", false],
        [n("images-cleanup"), "s3:DeleteObject", "inbox", "inbox/o/r/i", false],
        // records: no object at all.
        [n("api"), "s3:DeleteObject", "images", "images/o/r/i", false],
        [n("api"), "s3:GetObject", "images", "images/o/r/i", false],
        [n("api"), "s3:PutObject", "inbox", "inbox/o/r/i", false],
        [n("api"), "s3:GetObject", "inbox", "inbox/o/r/i", false],
      ];
      for (const [role, action, bucket, key, allowed] of expectations) {
        const decision = await onObject(role, action, bucket, key);
        expect(decision === "Allowed", `${role} ${action} ${bucket}/${key}: ${decision}`).toBe(allowed);
      }
    });

    it("the bucket policies deny plain HTTP and every principal but the bucket's own function roles", async () => {
      for (const [bucket, allowed, others] of [
        ["images", [n("ingest"), n("images-download"), n("images-cleanup")], [n("api"), n("images-api")]],
        ["inbox", [n("images-api"), n("ingest")], [n("api"), n("images-download"), n("images-cleanup")]],
      ] as const) {
        const b = bucketByPrefix(bucket);
        const doc = parse(forBucket(T.bucketPolicy, b)[0]!.inputs.policy);
        const object = `${bucketArn(b)}/${bucket}/o/r/i`;
        const ask = (role: string, action: string, context: Record<string, string> = {}) =>
          decide({
            role: roleArn(role),
            identity: [allowAll],
            action,
            resource: object,
            resourcePolicy: doc,
            context,
          });
        for (const role of allowed) {
          expect(await ask(role, "s3:GetObject"), role).toBe("Allowed");
          expect(await ask(role, "s3:GetObject", { "aws:SecureTransport": "false" }), role).toBe(
            "ExplicitlyDenied",
          );
        }
        // Even holding every IAM permission, another role of the account is refused by the bucket.
        for (const role of [...others, "veil-developer", n("rotate-api-key")]) {
          expect(await ask(role, "s3:GetObject"), role).toBe("ExplicitlyDenied");
          expect(await ask(role, "s3:PutObject"), role).toBe("ExplicitlyDenied");
        }
        expect(
          await decide({
            role: "arn:aws:iam::999999999999:role/attacker",
            identity: [allowAll],
            action: "s3:GetObject",
            resource: object,
            resourcePolicy: doc,
            context: { "aws:PrincipalAccount": "999999999999" },
          }),
        ).not.toBe("Allowed");
      }
    });

    it("keeps server access logs in a separate SSE-S3 bucket (S3 log delivery cannot write SSE-KMS)", () => {
      const b = bucketByPrefix("access-logs");
      const sse = forBucket(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        b,
      )[0]!;
      expect(sse.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
      expect(
        forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b)[0]!.inputs
          .restrictPublicBuckets,
      ).toBe(true);
    });
  });

  describe(`${stageName}: Cognito`, () => {
    it("enforces strong passwords, MFA, e-mail verification and (prod) threat protection", () => {
      const pool = s.get("aws:cognito/userPool:UserPool", "UserPool").inputs;
      expect(pool.passwordPolicy.minimumLength).toBeGreaterThanOrEqual(12);
      expect(pool.passwordPolicy).toMatchObject({
        requireLowercase: true,
        requireUppercase: true,
        requireNumbers: true,
        requireSymbols: true,
      });
      expect(pool.mfaConfiguration).toBe(stageName === "prod" ? "ON" : "OPTIONAL");
      expect(pool.softwareTokenMfaConfiguration.enabled).toBe(true);
      expect(pool.autoVerifiedAttributes).toEqual(["email"]);
      expect(pool.userPoolAddOns.advancedSecurityMode).toBe(stageName === "prod" ? "ENFORCED" : "OFF");
      const client = s.get("aws:cognito/userPoolClient:UserPoolClient", "WebClient").inputs;
      expect(client.generateSecret).toBe(false);
      expect(client.preventUserExistenceErrors).toBe("ENABLED");
      expect(client.explicitAuthFlows).not.toContain("ALLOW_USER_PASSWORD_AUTH");
    });
  });

  describe(`${stageName}: API Gateway`, () => {
    it("is regional and every method needs AWS_IAM and an API key", () => {
      expect(s.get("aws:apigateway/restApi:RestApi", "Api").inputs.endpointConfiguration.types).toBe(
        "REGIONAL",
      );
      const methods = s.ofType("aws:apigateway/method:Method");
      expect(methods).toHaveLength(recordRoutes.length + imageRoutes.length);
      for (const m of methods) {
        expect(m.inputs.authorization, m.name).toBe("AWS_IAM");
        expect(m.inputs.apiKeyRequired, m.name).toBe(true);
      }
      // Exactly the routes of the tables in @veil/core, nothing else.
      expect(methods.map((m) => `${m.inputs.httpMethod} ${pathOf(m.inputs.resourceId)}`).sort()).toEqual(
        [...recordRoutes, ...imageRoutes].map((r) => `${r.method} ${r.resource}`).sort(),
      );
    });

    it("sends each route to its function: records, images API, and the download as a response stream", () => {
      const fnArn = (name: string) => String(s.get(T.lambda, `${name}Function`).state.arn);
      // The function of the manifest that lists the route.
      const target = (route: { method: string; resource: string }) => {
        const name = functionNames.find((f) =>
          manifest[f].routes.some((r) => r.method === route.method && r.resource === route.resource),
        );
        return name ? resourceName(manifest[name]) : "none";
      };
      for (const route of [...recordRoutes, ...imageRoutes]) {
        const integration = integrationOf(route.method, route.resource);
        const label = `${route.method} ${route.resource}`;
        expect(integration.type, label).toBe("AWS_PROXY");
        expect(integration.integrationHttpMethod, label).toBe("POST");
        if (target(route) === "ImagesDownload") {
          expect(integration.responseTransferMode, label).toBe("STREAM");
          expect(integration.uri, label).toBe(
            `arn:aws:apigateway:${homeRegion}:lambda:path/2021-11-15/functions/${fnArn("ImagesDownload")}/response-streaming-invocations`,
          );
          expect(integration.timeoutMilliseconds, label).toBeGreaterThan(29_000);
          expect(integration.timeoutMilliseconds, label).toBe(
            s.get(T.lambda, "ImagesDownloadFunction").inputs.timeout * 1000,
          );
        } else {
          expect(integration.responseTransferMode ?? "BUFFERED", label).toBe("BUFFERED");
          expect(integration.uri, label).toBe(
            `arn:aws:apigateway:${homeRegion}:lambda:path/2015-03-31/functions/${fnArn(target(route))}/invocations`,
          );
        }
      }
      expect(imageRoutes.filter((r) => r.transfer === "STREAM")).toHaveLength(1);
    });

    it("lets API Gateway invoke each image function on its own routes only", () => {
      const permissions = s
        .ofType("aws:lambda/permission:Permission")
        .filter((p) => String(p.inputs.principal).startsWith("apigateway."));
      const sources = (fn: string) =>
        permissions
          .filter((p) => p.inputs.function === n(fn))
          .map((p) => String(p.inputs.sourceArn).split("/v1/")[1])
          .sort();
      expect(sources("images-api")).toEqual(["GET/api/records/*/images", "POST/api/records/*/images"].sort());
      expect(sources("images-download")).toEqual(["GET/api/records/*/images/*"]);
      expect(sources("records")).toEqual(["*"]);
    });

    it("accepts signatures of the edge signer's role only (resource policy, redeployed with the stage)", async () => {
      const doc = parse(
        s.get("aws:apigateway/restApiPolicy:RestApiPolicy", "ApiResourcePolicy").inputs.policy,
      );
      const apiId = String(s.outputs.apiHost).split(".")[0];
      const resource = `arn:aws:execute-api:${homeRegion}:${testAccount}:${apiId}/v1/POST/api/records`;
      const edgeRole = roleArn(n("edge-signer"));
      const edgeIdentity = [parse(s.get(T.rolePolicy, "EdgeSignerPolicy").inputs.policy)];
      expect(
        await decide({
          role: edgeRole,
          identity: edgeIdentity,
          action: "execute-api:Invoke",
          resource,
          resourcePolicy: doc,
        }),
      ).toBe("Allowed");
      for (const role of ["veil-developer", n("api"), `veil-deploy-${stageName}`])
        expect(
          await decide({
            role: roleArn(role),
            identity: [allowAll],
            action: "execute-api:Invoke",
            resource,
            resourcePolicy: doc,
          }),
          role,
        ).toBe("ExplicitlyDenied");
      const deployment = s.get("aws:apigateway/deployment:Deployment", "ApiDeployment").inputs;
      expect(deployment.triggers.redeployment).toContain("EdgeSignerOnly");
    });

    it("throttles through a usage plan and logs access without bodies", () => {
      const plan = s.get("aws:apigateway/usagePlan:UsagePlan", "ApiUsagePlan").inputs;
      expect(plan.throttleSettings).toEqual({
        rateLimit: stage.api.rateLimit,
        burstLimit: stage.api.burstLimit,
      });
      expect(plan.apiStages).toHaveLength(1);
      const st = s.get("aws:apigateway/stage:Stage", "ApiStage").inputs;
      const format = String(st.accessLogSettings.format);
      expect(format).toContain("$context.requestId");
      expect(format).not.toMatch(/body|requestOverride|responseOverride|\$input|header/i);
      const settings = s.get("aws:apigateway/methodSettings:MethodSettings", "ApiMethodSettings").inputs
        .settings;
      expect(settings.dataTraceEnabled).toBe(false);
      expect(settings.loggingLevel).toBe("OFF");
    });
  });

  describe(`${stageName}: the functions of the manifest`, () => {
    it("creates each, named after it, from its entry with its links, memory, timeout and network", () => {
      for (const name of functionNames) {
        const spec = manifest[name];
        const id = resourceName(spec);
        expect(s.builds[id].handler, name).toBe(sstHandler(spec));
        expect(Object.keys(s.builds[id].links).sort(), name).toEqual([...spec.links].sort());
        const fn = s.get(T.lambda, `${id}Function`).inputs;
        expect(fn.name, name).toBe(n(name));
        expect(fn.timeout, name).toBe(spec.timeoutSeconds);
        expect(fn.memorySize, name).toBe(spec.memoryMb);
        expect(fn.environment.variables.POWERTOOLS_SERVICE_NAME, name).toBe(`veil-${name}`);
        expect(Boolean(fn.vpcConfig), name).toBe(spec.vpc);
      }
    });

    it("bundles each with the production define (test switches compiled out) and no esbuild plugin", () => {
      for (const name of functionNames) {
        const properties = s.builds[resourceName(manifest[name])].properties;
        expect(properties.esbuild.define, name).toEqual(productionDefine);
        expect(properties.plugins, name).toBeUndefined();
      }
    });
  });

  describe(`${stageName}: image functions`, () => {
    const linksOf = (fn: string) => Object.keys(s.builds[fn].links).sort();

    it("builds each from its handler with its own role", () => {
      for (const [fn, handler, role] of [
        ["ImagesApi", "functions/src/images-api/handler.handler", "images-api"],
        ["ImagesDownload", "functions/src/images-download/handler.handler", "images-download"],
        ["ImagesIngest", "functions/src/images-ingest/handler.handler", "ingest"],
        ["ImagesCleanup", "functions/src/images-cleanup/handler.handler", "images-cleanup"],
      ] as const) {
        expect(s.builds[fn].handler, fn).toBe(handler);
        expect(s.get(T.lambda, `${fn}Function`).inputs.role, fn).toBe(roleArn(n(role)));
      }
    });

    it("links exactly the resources of the images table (App is always linked by SST)", () => {
      expect(linksOf("ImagesApi")).toEqual(
        ["Database", "FlePublicKey", "InboxBucket", "UserPool", "UserPoolClient"].sort(),
      );
      expect(linksOf("ImagesDownload")).toEqual(
        ["Database", "ImagesBucket", "RecordsKey", "UserPool", "UserPoolClient"].sort(),
      );
      expect(linksOf("ImagesIngest")).toEqual(
        ["Database", "FleKey", "ImagesBucket", "InboxBucket", "RecordsKey"].sort(),
      );
      expect(linksOf("ImagesCleanup")).toEqual(["Database", "ImagesBucket"]);
      // The records function never sees a bucket: the cleanup deletes an erased record's images.
      expect(linksOf("Records")).not.toContain("ImagesBucket");
      expect(linksOf("Records")).not.toContain("InboxBucket");
      const app = s.get(T.lambda, "ImagesApiFunction").inputs.environment.variables.SST_RESOURCE_App;
      expect(JSON.parse(app)).toEqual({ name: "veil", stage: stageName });
    });

    it("hands browsers the CloudFront FLE public key (FlePublicKey), never the private key", () => {
      const link = s.builds.ImagesApi.links.FlePublicKey;
      const cloudFrontKey = s.get("aws:cloudfront/publicKey:PublicKey", "FlePublicKey").inputs;
      expect(link.pem).toBe(cloudFrontKey.encodedKey);
      expect(link.pem).toContain("BEGIN PUBLIC KEY");
      expect(link.providerId).toBe("veil");
      expect(link.keyName).toBeTruthy();
      const bootstrap = JSON.parse(s.get("aws:lambda/invocation:Invocation", "FleKeyBootstrap").state.result);
      expect(link.keyName).toBe(bootstrap.keyName);
      expect(JSON.stringify(s.builds.ImagesApi.links)).not.toMatch(/PRIVATE KEY|secretArn/);
    });

    it("streams the download (Lambda response streaming, long enough for 25 MiB at 2 MB/s)", () => {
      const fn = s.get(T.lambda, "ImagesDownloadFunction").inputs;
      expect(fn.timeout).toBeGreaterThanOrEqual(60);
    });

    it("sizes the ingest for 25 MiB images (≥ 60 s, ≥ 512 MB) and retries it twice into a failure queue", () => {
      const fn = s.get(T.lambda, "ImagesIngestFunction").inputs;
      expect(fn.timeout).toBeGreaterThanOrEqual(60);
      expect(fn.memorySize).toBeGreaterThanOrEqual(512);
      const config = s.get(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "IngestInvokeConfig",
      ).inputs;
      expect(config.functionName).toBe(n("images-ingest"));
      expect(config.maximumRetryAttempts).toBe(ingestRetryAttempts);
      expect(ingestRetryAttempts).toBe(2);
      const queue = s.get("aws:sqs/queue:Queue", "IngestFailures");
      expect(config.destinationConfig.onFailure.destination).toBe(queue.state.arn);
      expect(queue.inputs.sqsManagedSseEnabled).toBe(true);
      const send = policyOf(n("ingest"))
        .flatMap((d) => d.Statement)
        .filter((st) => asArray(st.Action).includes("sqs:SendMessage"));
      expect(send.map((st) => asArray(st.Resource))).toEqual([[queue.state.arn]]);
    });

    it("runs the cleanup of erased records' images on a schedule, and alarms when it fails", () => {
      const rule = s.get("aws:cloudwatch/eventRule:EventRule", "ImagesCleanupSchedule").inputs;
      expect(rule.scheduleExpression).toBe(imageCleanupSchedule);
      expect(rule.state).toBe("ENABLED");
      const fnArn = String(s.get(T.lambda, "ImagesCleanupFunction").state.arn);
      expect(s.get("aws:cloudwatch/eventTarget:EventTarget", "ImagesCleanupTarget").inputs.arn).toBe(fnArn);
      const invoke = s.get("aws:lambda/permission:Permission", "ImagesCleanupScheduleInvokes").inputs;
      expect(invoke).toMatchObject({ principal: "events.amazonaws.com", function: n("images-cleanup") });
      const alarms = s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs);
      expect(alarms).toContainEqual(
        expect.objectContaining({ metricName: "Errors", dimensions: { FunctionName: n("images-cleanup") } }),
      );
      expect(alarms).toContainEqual(
        expect.objectContaining({
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: n("ingest-failures") },
        }),
      );
      // The records function holds no S3 right of any kind.
      const recordActions = policyOf(n("api")).flatMap((d) =>
        d.Statement.flatMap((st) => asArray(st.Action)),
      );
      expect(recordActions.filter((a: string) => a.startsWith("s3:"))).toEqual([]);
    });

    it("runs the ingest on uploads under inbox/ of the inbox bucket only", () => {
      const notification = s.get("aws:s3/bucketNotification:BucketNotification", "InboxNotification").inputs;
      expect(notification.bucket).toBe(bucketByPrefix("inbox").id);
      expect(notification.lambdaFunctions).toEqual([
        expect.objectContaining({ events: ["s3:ObjectCreated:*"], filterPrefix: "inbox/" }),
      ]);
    });
  });

  describe(`${stageName}: Lambda@Edge signer`, () => {
    it("is a published us-east-1 function with a role trusted by edgelambda and lambda", () => {
      const fn = s.get(T.lambda, "EdgeSigner");
      expect(fn.region).toBe(edgeRegion);
      expect(fn.inputs).toMatchObject({ publish: true, runtime: "nodejs22.x", handler: "index.handler" });
      expect(fn.inputs.environment).toBeUndefined();
      expect(fn.inputs.layers ?? []).toEqual([]);
      expect(fn.inputs.tracingConfig).toBeUndefined();
      const trust = parse(s.get(T.role, "EdgeSignerRole").inputs.assumeRolePolicy);
      expect(trust.Statement[0].Principal.Service.sort()).toEqual([
        "edgelambda.amazonaws.com",
        "lambda.amazonaws.com",
      ]);
    });

    it("may invoke this API only", () => {
      const doc = parse(s.get(T.rolePolicy, "EdgeSignerPolicy").inputs.policy);
      const invoke = doc.Statement.filter((st) =>
        asArray(st.Action).some((a: string) => a.startsWith("execute-api:")),
      );
      expect(invoke).toHaveLength(1);
      expect(asArray(invoke[0].Action)).toEqual(["execute-api:Invoke"]);
      const apiId = String(s.outputs.apiHost).split(".")[0];
      expect(asArray(invoke[0].Resource)).toEqual([
        `arn:aws:execute-api:${homeRegion}:${testAccount}:${apiId}/v1/*`,
      ]);
    });

    it("bundles the API host and region at build time (no environment at the edge)", () => {
      // The real edge/build.ts ran during synthesis (beforeAll removed any earlier bundle).
      const bundle = readFileSync(edgeBundle, "utf8");
      expect(bundle).toContain(String(s.outputs.apiHost));
      expect(bundle).toContain(homeRegion);
    });
  });

  describe(`${stageName}: CloudFront`, () => {
    const dist = () => s.get(T.distribution, "Distribution").inputs;
    const apiBehavior = () =>
      dist().orderedCacheBehaviors.find((b: { pathPattern: string }) => b.pathPattern === "/api/*");

    it("encrypts exactly the classification's sensitive fields with the bootstrap's public key", () => {
      const key = s.get("aws:cloudfront/publicKey:PublicKey", "FlePublicKey").inputs;
      expect(key.encodedKey).toContain("BEGIN PUBLIC KEY");
      const profile = s.get(
        "aws:cloudfront/fieldLevelEncryptionProfile:FieldLevelEncryptionProfile",
        "FleProfile",
      ).inputs;
      expect(profile.encryptionEntities.items).toHaveLength(1);
      expect(profile.encryptionEntities.items[0].fieldPatterns.items).toEqual([...fleFields]);
      const config = s.get(
        "aws:cloudfront/fieldLevelEncryptionConfig:FieldLevelEncryptionConfig",
        "FleConfig",
      ).inputs;
      expect(config.contentTypeProfileConfig.contentTypeProfiles.items[0]).toMatchObject({
        contentType: "application/x-www-form-urlencoded",
        format: "URLEncoded",
      });
      expect(apiBehavior().fieldLevelEncryptionId).toBeTruthy();
    });

    it("sends /api/* to the API: https only, all methods, no caching, API key header, signer on origin-request", () => {
      const b = apiBehavior();
      expect(b.viewerProtocolPolicy).toBe("https-only");
      expect([...b.allowedMethods].sort()).toEqual([
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "POST",
        "PUT",
      ]);
      expect(b.cachePolicyId).toBe(managedPolicies.cachingDisabled);
      expect(b.lambdaFunctionAssociations).toEqual([
        {
          eventType: "origin-request",
          includeBody: true,
          lambdaArn: expect.stringMatching(/:function:veil-\w+-edge-signer:1$/),
        },
      ]);
      const origin = dist().origins.find((o: { originId: string }) => o.originId === b.targetOriginId);
      expect(origin.domainName).toBe(s.outputs.apiHost);
      expect(origin.customOriginConfig).toMatchObject({
        originProtocolPolicy: "https-only",
        originSslProtocols: ["TLSv1.2"],
      });
      expect(origin.customHeaders.map((h: { name: string }) => h.name)).toEqual(["x-api-key"]);
      // The header is a real input (the live key, cdn.test.ts), never ignored: see cdn.ts.
      expect(s.get(T.distribution, "Distribution").opts.ignoreChanges ?? []).toEqual([]);
    });

    it("serves the static site through origin access control, TLS 1.2+, security headers, WAF", () => {
      const d = dist();
      const web = d.origins.find(
        (o: { originId: string }) => o.originId === d.defaultCacheBehavior.targetOriginId,
      );
      expect(web.originAccessControlId).toBeTruthy();
      expect(d.viewerCertificate).toMatchObject({
        minimumProtocolVersion: "TLSv1.2_2021",
        sslSupportMethod: "sni-only",
      });
      expect(d.viewerCertificate.cloudfrontDefaultCertificate).toBeUndefined();
      expect(d.webAclId).toMatch(/webacl/);
      const h = s.get("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "SecurityHeaders").inputs
        .securityHeadersConfig;
      expect(h.strictTransportSecurity.accessControlMaxAgeSec).toBeGreaterThanOrEqual(31536000);
      const csp = String(h.contentSecurityPolicy.contentSecurityPolicy);
      const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
      expect(scriptSrc).not.toContain("unsafe-inline");
      expect(scriptSrc).not.toContain("unsafe-eval");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(h.contentTypeOptions.override).toBe(true);
      expect(h.referrerPolicy.referrerPolicy).toBe("no-referrer");
      expect(d.defaultCacheBehavior.responseHeadersPolicyId).toBe(apiBehavior().responseHeadersPolicyId);
    });

    it("has a WAF with the AWS managed rule groups and a per-IP rate rule at the stage's limit", () => {
      const acl = s.get("aws:wafv2/webAcl:WebAcl", "WebAcl").inputs;
      expect(acl.scope).toBe("CLOUDFRONT");
      const groups = acl.rules.flatMap(
        (r: { statement: { managedRuleGroupStatement?: { name: string } } }) =>
          r.statement.managedRuleGroupStatement ? [r.statement.managedRuleGroupStatement.name] : [],
      );
      expect(groups).toEqual([...managedRuleGroups]);
      const rate = acl.rules.find(
        (r: { statement: { rateBasedStatement?: unknown } }) => r.statement.rateBasedStatement,
      );
      expect(rate.action).toEqual({ block: {} });
      expect(rate.statement.rateBasedStatement).toMatchObject({
        limit: stage.waf.ratePerIp5Min,
        aggregateKeyType: "IP",
      });
    });

    it("is protected by Shield Advanced exactly in prod", () => {
      expect(s.ofType("aws:shield/protection:Protection")).toHaveLength(stage.shieldAdvanced ? 1 : 0);
      expect(stage.shieldAdvanced).toBe(stageName === "prod");
    });
  });

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
          ["records", "images-ingest", "images-api", "images-download", "images-cleanup"].includes(
            String(f.inputs.name).replace(`veil-${stageName}-`, ""),
          ),
        );
      expect(dataFunctions).toHaveLength(5);
      for (const r of [...dataFunctions, ...s.ofType("aws:apigateway/deployment:Deployment")])
        expect(s.orderedAfter(r, bootstrap()), r.name).toBe(false);
    });
  });

  describe(`${stageName}: FLE key bootstrap`, () => {
    it("generates the key pair in AWS and keeps the private key out of Pulumi", () => {
      const inv = s.get("aws:lambda/invocation:Invocation", "FleKeyBootstrap").inputs;
      expect(JSON.parse(inv.input)).toMatchObject({
        action: "generate",
        generation: stage.fleKeyGeneration,
        providerId: "veil",
      });
      expect(JSON.stringify(s.resources.map((r) => r.inputs))).not.toMatch(/PRIVATE KEY/);
    });

    it("stores it in a secret encrypted with the data key, readable by the records function and the ingest only", async () => {
      const secret = s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey").inputs;
      expect(secret.kmsKeyId).toBe(dataKeyArn);
      const doc = parse(
        s.get("aws:secretsmanager/secretPolicy:SecretPolicy", "FlePrivateKeyPolicy").inputs.policy,
      );
      const arn = `arn:aws:secretsmanager:${homeRegion}:${testAccount}:secret:${n("fle-private-key")}-AbCdEf`;
      const ask = (role: string, identity: unknown[], action = "secretsmanager:GetSecretValue") =>
        decide({
          role: roleArn(role),
          identity,
          action,
          resource: arn,
          resourcePolicy: doc,
          context: { "secretsmanager:VersionStage": "AWSCURRENT" },
        });
      expect(await ask(n("api"), policyOf(n("api")))).toBe("Allowed");
      expect(await ask(n("ingest"), policyOf(n("ingest")))).toBe("Allowed");
      // The image functions that never need the private key cannot read it, whatever IAM says.
      for (const role of [n("images-api"), n("images-download")]) {
        expect(await ask(role, policyOf(role)), role).not.toBe("Allowed");
        expect(await ask(role, [allowAll]), role).toBe("ExplicitlyDenied");
      }
      expect(await ask("veil-developer", [allowAll])).toBe("ExplicitlyDenied");
      expect(await ask(n("fle-bootstrap"), [allowAll])).toBe("ExplicitlyDenied");
      expect(
        await ask(n("fle-bootstrap"), policyOf(n("fle-bootstrap")), "secretsmanager:PutSecretValue"),
      ).toBe("Allowed");
      expect(await ask(n("api"), [allowAll], "secretsmanager:PutSecretValue")).toBe("ExplicitlyDenied");
    });
  });

  describe(`${stageName}: observability`, () => {
    it("encrypts every log group with the logs key, keeps the stage's retention and masks identifiers", () => {
      const groups = s.ofType(T.logGroup);
      expect(groups.length).toBeGreaterThanOrEqual(6);
      const masked = new Set(s.ofType(T.dataProtection).map((p) => p.inputs.logGroupName));
      const edgeLogsKeyArn = String(s.get(T.key, "EdgeLogsKey").state.arn);
      for (const g of groups) {
        expect(g.inputs.kmsKeyId, g.name).toBe(g.region === homeRegion ? logsKeyArn : edgeLogsKeyArn);
        expect(g.inputs.retentionInDays, g.name).toBe(stage.logs.retentionDays);
        expect(masked.has(g.inputs.name), g.name).toBe(true);
      }
      const doc = JSON.parse(s.ofType(T.dataProtection)[0]!.inputs.policyDocument);
      const redact = doc.Statement.find(
        (st: { Operation: { Deidentify?: unknown } }) => st.Operation.Deidentify,
      );
      expect(redact.DataIdentifier).toHaveLength(maskedDataIdentifiers.length);
      expect(redact.DataIdentifier).toContain("arn:aws:dataprotection::aws:data-identifier/EmailAddress");
    });

    it("traces the handlers with Powertools bundled and configured by environment, never capturing payloads", () => {
      for (const name of functionNames.map((f) => `${resourceName(manifest[f])}Function`)) {
        const fn = s.get(T.lambda, name).inputs;
        expect(fn.tracingConfig, name).toEqual({ mode: "Active" });
        expect(fn.runtime).toBe("nodejs22.x");
        // Powertools is bundled (the measured bundle is the deployed one): no layer to drift from it.
        expect(fn.layers ?? [], name).toEqual([]);
        expect(fn.environment.variables).toMatchObject({
          POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
          POWERTOOLS_TRACER_CAPTURE_ERROR: "false",
          POWERTOOLS_LOGGER_LOG_EVENT: "false",
        });
        expect(fn.role).toMatch(/^arn:aws:iam::\d+:role\/veil-/);
        expect(fn.codeSigningConfigArn, name).toBe(stageName === "prod" ? codeSigning : undefined);
      }
    });

    it("alarms on API 5xx, throttles and KMS errors", () => {
      const alarms = s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.metricName);
      expect(alarms).toEqual(
        expect.arrayContaining(["5XXError", "Throttles", "KmsErrors", "KeyPolicyChanges"]),
      );
      for (const a of s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm"))
        expect(a.inputs.alarmActions).toHaveLength(1);
      const filter = s.get("aws:cloudwatch/logMetricFilter:LogMetricFilter", "KmsErrorsFilter").inputs
        .pattern;
      expect(filter).toContain("kms.amazonaws.com");
      expect(filter).toContain("errorCode");
    });

    it("trails management (all KMS calls) and the buckets' data events into a separate archive", () => {
      const trail = s.get("aws:cloudtrail/trail:Trail", "AuditTrail").inputs;
      expect(trail.enableLogFileValidation).toBe(true);
      expect(trail.kmsKeyId).toBe(logsKeyArn);
      const archive = bucketByPrefix("log-archive");
      expect(trail.s3BucketName).toBe(archive.id);
      for (const other of ["images", "inbox", "access-logs"])
        expect(bucketByPrefix(other).id).not.toBe(archive.id);
      const selectors = trail.advancedEventSelectors;
      expect(selectors[0].fieldSelectors).toEqual([{ field: "eventCategory", equals: ["Management"] }]);
      const data = selectors[1].fieldSelectors.find(
        (f: { field: string }) => f.field === "resources.ARN",
      ).startsWiths;
      expect(data.sort()).toEqual(
        [`${bucketArn(bucketByPrefix("images"))}/`, `${bucketArn(bucketByPrefix("inbox"))}/`].sort(),
      );
    });
  });
}
