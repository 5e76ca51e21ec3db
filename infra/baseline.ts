/**
 * The account's detective controls, in the home region: GuardDuty (with S3, RDS and Lambda
 * protection), Security Hub (AWS Foundational Security Best Practices), AWS Config (recorder, delivery
 * channel and managed rules for Veil's own controls), IAM Access Analyzer, Amazon Inspector for Lambda,
 * and a Macie classification job over the image and inbox buckets — which hold only ciphertext, so a
 * Macie finding there means plaintext leaked into storage. Every finding of them reaches the alarm
 * topic through EventBridge.
 *
 * These are account-wide singletons (one detector, one recorder, one Security Hub per region): the
 * stage setting `accountBaseline` (on in prod) says which stage of an account owns them. IAM is global,
 * but Config records it from the home region (`includeGlobalResourceTypes`) and Access Analyzer reads
 * it from there, so nothing here lives in us-east-1.
 */
import { configRules, findingPatterns, foundationalStandard, guardDutyFeatures } from "./baseline-checks.ts";
import { type Ctx, denyInsecureTransport, policyJson } from "./context.ts";
import { grant } from "./roles.ts";
import { hardenCommon } from "./storage.ts";

/** Macie's service-linked role: what reads the scanned buckets (their policies and the key must admit it). */
export function macieServiceRoleArn(accountId: $util.Input<string>): $util.Output<string> {
  return $interpolate`arn:aws:iam::${accountId}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`;
}

export interface BaselineArgs {
  /** The alarm topic of observability.ts (encrypted with the logs key, which admits EventBridge). */
  readonly alarmTopicArn: $util.Input<string>;
  /** Buckets Macie classifies: they must hold ciphertext only. */
  readonly scannedBucketNames: $util.Input<string>[];
  /** Functions that must run inside the VPC (one `LAMBDA_INSIDE_VPC` rule each). */
  readonly vpcFunctionNames: $util.Input<string>[];
  /** The access-log bucket (server access logs of the Config bucket). */
  readonly accessLogBucketId: $util.Input<string>;
}

export interface Baseline {
  readonly detector: aws.guardduty.Detector;
  readonly recorder: aws.cfg.Recorder;
  readonly configBucket: aws.s3.Bucket;
  readonly findingRules: aws.cloudwatch.EventRule[];
}

/** Creates the account baseline when the stage owns it (`accountBaseline`); otherwise nothing. */
export function createAccountBaseline(ctx: Ctx, args: BaselineArgs): Baseline | undefined {
  if (!ctx.stage.accountBaseline) return undefined;
  const p = { provider: ctx.home };

  const detector = new aws.guardduty.Detector(
    "GuardDuty",
    { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" },
    p,
  );
  for (const feature of guardDutyFeatures)
    new aws.guardduty.DetectorFeature(
      `GuardDuty${feature}`,
      { detectorId: detector.id, name: feature, status: "ENABLED" },
      p,
    );

  const hub = new aws.securityhub.Account(
    "SecurityHub",
    { enableDefaultStandards: false, controlFindingGenerator: "SECURITY_CONTROL", autoEnableControls: true },
    p,
  );
  new aws.securityhub.StandardsSubscription(
    "FoundationalBestPractices",
    { standardsArn: foundationalStandard(ctx.homeRegion) },
    { ...p, dependsOn: [hub] },
  );

  new aws.accessanalyzer.Analyzer("AccessAnalyzer", { analyzerName: ctx.name("access"), type: "ACCOUNT" }, p);

  new aws.inspector2.Enabler(
    "InspectorLambda",
    { accountIds: [ctx.accountId], resourceTypes: ["LAMBDA", "LAMBDA_CODE"] },
    p,
  );

  const macie = new aws.macie2.Account(
    "Macie",
    { status: "ENABLED", findingPublishingFrequency: "FIFTEEN_MINUTES" },
    p,
  );
  new aws.macie2.ClassificationJob(
    "CiphertextOnlyScan",
    {
      name: ctx.name("ciphertext-only"),
      description: "Image and inbox buckets hold only ciphertext: any sensitive-data finding is a leak",
      jobType: "SCHEDULED",
      scheduleFrequency: { weeklySchedule: "SUNDAY" },
      initialRun: true,
      samplingPercentage: 100,
      s3JobDefinition: {
        bucketDefinitions: [{ accountId: ctx.accountId, buckets: args.scannedBucketNames }],
      },
    },
    { ...p, dependsOn: [macie] },
  );

  const { recorder, bucket: configBucket, status } = createConfigRecorder(ctx, args.accessLogBucketId);
  const rulePrefix = ctx.name("");
  const rule = (
    identifier: string,
    description: string,
    suffix = "",
    scope?: aws.types.input.cfg.RuleScope,
  ) =>
    new aws.cfg.Rule(
      `Config${identifier}${suffix}`,
      {
        name: `${rulePrefix}${identifier.toLowerCase().replaceAll("_", "-")}${suffix}`,
        description,
        source: { owner: "AWS", sourceIdentifier: identifier },
        scope,
      },
      { ...p, dependsOn: [status] },
    );
  for (const [identifier, description] of Object.entries(configRules)) rule(identifier, description);
  // One rule per function: the functions outside the VPC (key bootstrap, rotation) are so by design.
  for (const [i, name] of args.vpcFunctionNames.entries())
    rule("LAMBDA_INSIDE_VPC", "this function runs inside the VPC", `-${i}`, {
      complianceResourceTypes: ["AWS::Lambda::Function"],
      complianceResourceId: name,
    });

  const findingRules = Object.entries(findingPatterns(rulePrefix)).map(([source, pattern]) => {
    const eventRule = new aws.cloudwatch.EventRule(
      `${source}Findings`,
      {
        name: ctx.name(`${source.toLowerCase()}-findings`),
        description: `${source} findings to the alarm topic`,
        eventPattern: JSON.stringify(pattern),
      },
      p,
    );
    new aws.cloudwatch.EventTarget(
      `${source}FindingsToAlarms`,
      { rule: eventRule.name, arn: args.alarmTopicArn },
      p,
    );
    return eventRule;
  });
  new aws.sns.TopicPolicy(
    "AlarmsTopicPolicy",
    {
      arn: args.alarmTopicArn,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          {
            // AWS's default topic policy: the account's own principals and alarms.
            Sid: "AccountOwnerDefault",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: [
              "sns:GetTopicAttributes",
              "sns:SetTopicAttributes",
              "sns:AddPermission",
              "sns:RemovePermission",
              "sns:DeleteTopic",
              "sns:Subscribe",
              "sns:ListSubscriptionsByTopic",
              "sns:Publish",
            ],
            Resource: args.alarmTopicArn,
            Condition: { StringEquals: { "AWS:SourceOwner": ctx.accountId } },
          },
          {
            Sid: "FindingRulesPublish",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sns:Publish",
            Resource: args.alarmTopicArn,
            Condition: { ArnEquals: { "aws:SourceArn": findingRules.map((r) => r.arn) } },
          },
        ],
      }),
    },
    p,
  );
  return { detector, recorder, configBucket, findingRules };
}

/** The Config recorder (all supported types, IAM included), its role, bucket and delivery channel. */
function createConfigRecorder(ctx: Ctx, accessLogBucketId: $util.Input<string>) {
  const p = { provider: ctx.home };
  const bucket = new aws.s3.Bucket(
    "ConfigBucket",
    { bucketPrefix: `${ctx.name("config")}-`, forceDestroy: !ctx.stage.protect },
    p,
  );
  hardenCommon(ctx, "ConfigBucket", bucket, { sse: { sseAlgorithm: "AES256" } });
  new aws.s3.BucketLogging(
    "ConfigBucketLogging",
    { bucket: bucket.id, targetBucket: accessLogBucketId, targetPrefix: "config/" },
    p,
  );
  const bucketPolicy = new aws.s3.BucketPolicy(
    "ConfigBucketPolicy",
    {
      bucket: bucket.id,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(bucket.arn),
          {
            Sid: "ConfigAclCheck",
            Effect: "Allow",
            Principal: { Service: "config.amazonaws.com" },
            Action: ["s3:GetBucketAcl", "s3:ListBucket"],
            Resource: bucket.arn,
            Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
          },
          {
            Sid: "ConfigDelivery",
            Effect: "Allow",
            Principal: { Service: "config.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: $interpolate`${bucket.arn}/AWSLogs/${ctx.accountId}/Config/*`,
            Condition: {
              StringEquals: {
                "aws:SourceAccount": ctx.accountId,
                "s3:x-amz-acl": "bucket-owner-full-control",
              },
            },
          },
        ],
      }),
    },
    p,
  );
  const role = new aws.iam.Role(
    "ConfigRole",
    {
      name: ctx.name("config"),
      description: "AWS Config recorder of the account baseline",
      assumeRolePolicy: policyJson({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "config.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ctx.accountId } },
          },
        ],
      }),
    },
    p,
  );
  new aws.iam.RolePolicyAttachment(
    "ConfigRoleManagedPolicy",
    { role: role.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole" },
    p,
  );
  const delivery = grant(ctx, "ConfigRoleDelivery", role, [
    {
      Sid: "DeliverToTheConfigBucket",
      Effect: "Allow",
      Action: "s3:PutObject",
      Resource: [$interpolate`${bucket.arn}/AWSLogs/${ctx.accountId}/Config/*`],
      Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
    },
    { Sid: "CheckTheConfigBucket", Effect: "Allow", Action: "s3:GetBucketAcl", Resource: [bucket.arn] },
  ]);
  const recorder = new aws.cfg.Recorder(
    "ConfigRecorder",
    {
      name: ctx.name("config"),
      roleArn: role.arn,
      recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
    },
    p,
  );
  const channel = new aws.cfg.DeliveryChannel(
    "ConfigDelivery",
    {
      name: ctx.name("config"),
      s3BucketName: bucket.id,
      snapshotDeliveryProperties: { deliveryFrequency: "TwentyFour_Hours" },
    },
    { ...p, dependsOn: [recorder, bucketPolicy, delivery] },
  );
  const status = new aws.cfg.RecorderStatus(
    "ConfigRecorderStatus",
    { name: recorder.name, isEnabled: true },
    { ...p, dependsOn: [channel] },
  );
  return { recorder, bucket, status };
}
