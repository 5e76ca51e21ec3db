/**
 * The account baseline (detective controls) in the composed stacks under Pulumi mocks: on in prod,
 * absent in dev and sit unless the account owner turns it on; each service configured, in the home
 * region, and every finding routed to the alarm topic. Macie's access to the ciphertext-only buckets is
 * simulated against the bucket and key policies.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { manifest } from "../functions/manifest.ts";
import { configRules, findingPatterns, foundationalStandard, guardDutyFeatures } from "./baseline-checks.ts";
import { homeRegion, stageConfig } from "./stage.ts";
import { type Recorded, type Stack, testAccount } from "./test/harness.ts";
import { namesFunction, unorderedLambdaReferences } from "./test/lambda-references.ts";
import { decide } from "./test/simulate.ts";
import { type SharedStage, sharedStages, synthesizeStages } from "./test/stages.ts";

const T = {
  detector: "aws:guardduty/detector:Detector",
  feature: "aws:guardduty/detectorFeature:DetectorFeature",
  hub: "aws:securityhub/account:Account",
  standard: "aws:securityhub/standardsSubscription:StandardsSubscription",
  recorder: "aws:cfg/recorder:Recorder",
  channel: "aws:cfg/deliveryChannel:DeliveryChannel",
  recorderStatus: "aws:cfg/recorderStatus:RecorderStatus",
  rule: "aws:cfg/rule:Rule",
  analyzer: "aws:accessanalyzer/analyzer:Analyzer",
  inspector: "aws:inspector2/enabler:Enabler",
  macie: "aws:macie2/account:Account",
  macieJob: "aws:macie2/classificationJob:ClassificationJob",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
} as const;
const baselineTypes = Object.values(T).filter((t) => !t.startsWith("aws:cloudwatch/"));
/** Other modules may have topic policies of their own; the baseline's is the alarm topic's. */
const ofBaseline = (r: Recorded) => r.type !== T.topicPolicy || r.name === "AlarmsTopicPolicy";

const macieRole = `arn:aws:iam::${testAccount}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`;
/** What Macie's own service-linked role policy allows on objects (read only). */
const macieIdentity = {
  Version: "2012-10-17",
  Statement: [
    { Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion", "kms:Decrypt"], Resource: "*" },
  ],
};

let stacks: Record<SharedStage, Stack>;
beforeAll(async () => {
  stacks = await synthesizeStages();
}, 240_000);

it("is switched by the stage, or per account by VEIL_ACCOUNT_BASELINE", () => {
  expect(sharedStages.map((s) => stageConfig(s).accountBaseline)).toEqual([false, false, true]);
  expect(stageConfig("dev", { VEIL_ACCOUNT_BASELINE: "on" }).accountBaseline).toBe(true);
  expect(stageConfig("prod", { VEIL_ACCOUNT_BASELINE: "off" }).accountBaseline).toBe(false);
  expect(() => stageConfig("dev", { VEIL_ACCOUNT_BASELINE: "yes" })).toThrow(/on" or "off/);
});

for (const stageName of ["dev", "sit"] as const) {
  it(`${stageName}: leaves the account's singletons to the stage that owns them`, () => {
    const s = stacks[stageName];
    for (const type of baselineTypes) expect(s.ofType(type).filter(ofBaseline), type).toEqual([]);
    expect(JSON.stringify(s.get("aws:kms/key:Key", "DataKey").inputs.policy)).not.toContain("macie");
    for (const b of s.ofType("aws:s3/bucketPolicy:BucketPolicy"))
      expect(String(b.inputs.policy)).not.toContain("macie");
  });
}

describe("prod: account baseline", () => {
  let s: Stack;
  const n = (part: string) => `veil-prod-${part}`;
  const one = (type: string): Recorded => {
    const found = s.ofType(type);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const bucket = (part: string): Recorded => {
    const b = s
      .ofType("aws:s3/bucket:Bucket")
      .find((r) => String(r.inputs.bucketPrefix).startsWith(`${n(part)}-`));
    if (!b) throw new Error(`no bucket ${part}`);
    return b;
  };
  const forBucket = (type: string, b: Recorded) => s.ofType(type).filter((r) => r.name.startsWith(b.name));
  beforeAll(() => {
    s = stacks.prod;
  });

  it("lives in the home region: nothing of it in us-east-1", () => {
    for (const type of [...baselineTypes, T.eventRule, T.eventTarget])
      for (const r of s.ofType(type)) expect(r.region, `${type} ${r.name}`).toBe(homeRegion);
    expect(s.ofType(T.detector)).toHaveLength(1);
  });

  it("runs GuardDuty with S3, RDS and Lambda protection", () => {
    const detector = one(T.detector);
    expect(detector.inputs.enable).toBe(true);
    const features = s.ofType(T.feature);
    expect(features.map((f) => f.inputs.name).sort()).toEqual([...guardDutyFeatures].sort());
    for (const f of features) expect(f.inputs).toMatchObject({ detectorId: detector.id, status: "ENABLED" });
  });

  it("runs Security Hub against the AWS Foundational Security Best Practices", () => {
    expect(one(T.hub).inputs).toMatchObject({
      enableDefaultStandards: false,
      controlFindingGenerator: "SECURITY_CONTROL",
    });
    expect(one(T.standard).inputs.standardsArn).toBe(
      `arn:aws:securityhub:${homeRegion}::standards/aws-foundational-security-best-practices/v/1.0.0`,
    );
    expect(foundationalStandard(homeRegion)).toBe(one(T.standard).inputs.standardsArn);
  });

  it("records every resource type, IAM included, through a delivery channel to its own hardened bucket", () => {
    const recorder = one(T.recorder);
    expect(recorder.inputs.recordingGroup).toEqual({ allSupported: true, includeGlobalResourceTypes: true });
    expect(recorder.inputs.roleArn).toBe(`arn:aws:iam::${testAccount}:role/${n("config")}`);
    const attached = s
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .find((a) => a.inputs.role === n("config"));
    expect(attached?.inputs.policyArn).toBe("arn:aws:iam::aws:policy/service-role/AWS_ConfigRole");
    const configBucket = bucket("config");
    expect(one(T.channel).inputs.s3BucketName).toBe(configBucket.id);
    const status = one(T.recorderStatus);
    expect(status.inputs).toMatchObject({ name: n("config"), isEnabled: true });
    expect(s.orderedAfter(status, one(T.channel))).toBe(true);
    const policy = JSON.parse(
      String(forBucket("aws:s3/bucketPolicy:BucketPolicy", configBucket)[0]!.inputs.policy),
    );
    expect(policy.Statement[0]).toMatchObject({ Sid: "DenyInsecureTransport", Effect: "Deny" });
    const block = forBucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", configBucket)[0]!
      .inputs;
    expect(block).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    });
  });

  it("checks Veil's own controls with Config managed rules, after the recorder runs", () => {
    const rules = s.ofType(T.rule);
    const identifiers = rules.map((r) => r.inputs.source.sourceIdentifier);
    for (const identifier of [
      "S3_BUCKET_SSL_REQUESTS_ONLY",
      "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
      "RDS_STORAGE_ENCRYPTED",
      "CMK_BACKING_KEY_ROTATION_ENABLED",
      "CLOUD_TRAIL_ENABLED",
      "LAMBDA_INSIDE_VPC",
      ...Object.keys(configRules),
    ])
      expect(identifiers, identifier).toContain(identifier);
    for (const r of rules) {
      expect(r.inputs.source.owner).toBe("AWS");
      expect(r.inputs.name.startsWith(n(""))).toBe(true);
      expect(s.orderedAfter(r, one(T.recorderStatus)), r.name).toBe(true);
    }
    // Every function the manifest puts in the VPC (all that reach the database) is held there, one
    // rule each, naming the deployed function and created after it.
    const inVpcRules = rules.filter((r) => r.inputs.source.sourceIdentifier === "LAMBDA_INSIDE_VPC");
    const vpcFunctions = Object.values(manifest)
      .filter((f) => f.vpc)
      .map((f) => n(f.name));
    expect(vpcFunctions).toEqual(expect.arrayContaining(["records", "images-ingest", "db-bootstrap"].map(n)));
    expect(inVpcRules.map((r) => r.inputs.scope.complianceResourceId).sort()).toEqual(vpcFunctions.sort());
    const lambdas = s.ofType("aws:lambda/function:Function");
    for (const r of inVpcRules) {
      const name = String(r.inputs.scope.complianceResourceId);
      const fn = lambdas.find((f) => f.inputs.name === name);
      expect(fn?.inputs.vpcConfig, name).toBeDefined();
      // The ordering check sees the rule (so it would catch a name typed by hand) and finds it ordered.
      expect(namesFunction(r, name), name).toBe(true);
      expect(s.orderedAfter(r, fn as Recorded), name).toBe(true);
    }
    expect(unorderedLambdaReferences(s)).toEqual([]);
  });

  it("analyzes external access and scans the Lambda functions' packages and code", () => {
    expect(one(T.analyzer).inputs).toMatchObject({ analyzerName: n("access"), type: "ACCOUNT" });
    expect(one(T.inspector).inputs).toEqual(
      expect.objectContaining({ accountIds: [testAccount], resourceTypes: ["LAMBDA", "LAMBDA_CODE"] }),
    );
  });

  it("classifies the image and inbox buckets with Macie, every object, every week", () => {
    expect(one(T.macie).inputs.status).toBe("ENABLED");
    const job = one(T.macieJob).inputs;
    expect(job).toMatchObject({ jobType: "SCHEDULED", initialRun: true, samplingPercentage: 100 });
    expect(job.s3JobDefinition.bucketDefinitions).toEqual([
      { accountId: testAccount, buckets: [bucket("images").state.bucket, bucket("inbox").state.bucket] },
    ]);
  });

  it("lets Macie read both buckets and the images' SSE-KMS layer through S3, never the envelope (simulated)", async () => {
    for (const part of ["images", "inbox"]) {
      const b = bucket(part);
      const doc = JSON.parse(String(forBucket("aws:s3/bucketPolicy:BucketPolicy", b)[0]!.inputs.policy));
      const object = `${b.state.arn}/${part}/o/r/i`;
      expect(
        await decide({
          role: macieRole,
          identity: [macieIdentity],
          action: "s3:GetObject",
          resource: object,
          resourcePolicy: doc,
        }),
        part,
      ).toBe("Allowed");
    }
    const key = s.get("aws:kms/key:Key", "DataKey");
    const ask = (context: Record<string, string>) =>
      decide({
        role: macieRole,
        identity: [macieIdentity],
        action: "kms:Decrypt",
        resource: String(key.state.arn),
        resourcePolicy: JSON.parse(String(key.inputs.policy)),
        context,
      });
    const viaS3 = { "kms:ViaService": `s3.${homeRegion}.amazonaws.com` };
    expect(
      await ask({ ...viaS3, "kms:EncryptionContext:aws:s3:arn": String(bucket("images").state.arn) }),
    ).toBe("Allowed");
    expect(await ask({ "kms:EncryptionContext:purpose": "record.image" })).not.toBe("Allowed");
    expect(await ask({ "kms:EncryptionContext:purpose": "record.fields" })).not.toBe("Allowed");
  });

  it("routes every finding source to the alarm topic through EventBridge", () => {
    const topic = s.get("aws:sns/topic:Topic", "Alarms");
    const rules = s.ofType(T.eventRule).filter((r) => r.name.endsWith("Findings"));
    const sources = rules.map((r) => JSON.parse(r.inputs.eventPattern).source[0]).sort();
    expect(sources).toEqual(
      [
        "aws.guardduty",
        "aws.securityhub",
        "aws.config",
        "aws.access-analyzer",
        "aws.inspector2",
        "aws.macie",
      ].sort(),
    );
    expect(rules).toHaveLength(Object.keys(findingPatterns(n(""))).length);
    for (const r of rules) {
      const targets = s.ofType(T.eventTarget).filter((t) => t.inputs.rule === r.inputs.name);
      expect(
        targets.map((t) => t.inputs.arn),
        r.name,
      ).toEqual([topic.state.arn]);
    }
    const macie = rules.find((r) => JSON.parse(r.inputs.eventPattern).source[0] === "aws.macie")!;
    expect(JSON.parse(macie.inputs.eventPattern).detail).toBeUndefined(); // any Macie finding pages
    const config = JSON.parse(rules.find((r) => r.name === "ConfigFindings")!.inputs.eventPattern);
    expect(config.detail.newEvaluationResult.complianceType).toEqual(["NON_COMPLIANT"]);
  });

  it("lets the finding rules publish to the encrypted topic: topic policy and logs key", () => {
    const topic = s.get("aws:sns/topic:Topic", "Alarms");
    const policy = s.get(T.topicPolicy, "AlarmsTopicPolicy");
    expect(policy.inputs.arn).toBe(topic.state.arn);
    const doc = JSON.parse(String(policy.inputs.policy));
    const events = doc.Statement.find(
      (st: { Principal: { Service?: string } }) => st.Principal.Service === "events.amazonaws.com",
    );
    expect(events.Action).toBe("sns:Publish");
    expect([...events.Condition.ArnEquals["aws:SourceArn"]].sort()).toEqual(
      s
        .ofType(T.eventRule)
        .filter((r) => r.name.endsWith("Findings"))
        .map((r) => r.state.arn)
        .sort(),
    );
    const logsKey = JSON.parse(String(s.get("aws:kms/key:Key", "LogsKey").inputs.policy));
    expect(logsKey.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Condition: { StringEquals: { "aws:SourceAccount": testAccount } },
      }),
    );
    expect(topic.inputs.kmsMasterKeyId).toBe(s.get("aws:kms/key:Key", "LogsKey").state.arn);
  });
});
