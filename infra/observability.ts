/**
 * Alarms and the audit trail. Alarms: API 5xx, Lambda throttles, KMS errors and key-policy changes
 * (from CloudTrail), to an SNS topic encrypted with the logs key. CloudTrail: management events (all KMS
 * calls are management events) and S3 data events for the data buckets, to a separate log-archive
 * bucket and an encrypted log group, with log-file validation.
 */
import type { Ctx } from "./context.ts";
import { denyInsecureTransport, policyJson, serviceTrust } from "./context.ts";
import { createLogGroup } from "./logs.ts";
import { hardenCommon } from "./storage.ts";

export interface ObservabilityArgs {
  readonly logsKeyArn: $util.Input<string>;
  readonly accessLogBucketId: $util.Input<string>;
  readonly dataBucketArns: $util.Input<string>[];
  readonly dataKeyArn: $util.Input<string>;
  readonly apiName: $util.Input<string>;
  readonly apiStageName: $util.Input<string>;
  /** Functions whose throttles page someone. */
  readonly functionNames: $util.Input<string>[];
  /** Scheduled functions whose failed runs page someone (their work waits for the next run). */
  readonly failingFunctionNames?: $util.Input<string>[];
  /** Queues of events that failed all their retries (a message means work that did not happen). */
  readonly failureQueueNames?: $util.Input<string>[];
}

export interface Observability {
  readonly topic: aws.sns.Topic;
  readonly trail: aws.cloudtrail.Trail;
  readonly logArchive: aws.s3.Bucket;
}

/** CloudTrail metric filters that become alarms. */
export const trailMetricFilters = {
  KmsErrors: '{ ($.eventSource = "kms.amazonaws.com") && ($.errorCode = "*") }',
  KeyPolicyChanges:
    '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "PutKeyPolicy") || ($.eventName = "ScheduleKeyDeletion") || ($.eventName = "DisableKey") || ($.eventName = "CreateGrant")) }',
} as const;

/** Creates the topic, alarms, the log-archive bucket and the trail. */
export function createObservability(ctx: Ctx, args: ObservabilityArgs): Observability {
  const p = { provider: ctx.home };
  const topic = new aws.sns.Topic("Alarms", { name: ctx.name("alarms"), kmsMasterKeyId: args.logsKeyArn }, p);
  const alarm = (id: string, a: Omit<aws.cloudwatch.MetricAlarmArgs, "alarmActions" | "okActions">) =>
    new aws.cloudwatch.MetricAlarm(
      id,
      {
        ...a,
        name: ctx.name(id),
        alarmActions: [topic.arn],
        okActions: [topic.arn],
        treatMissingData: "notBreaching",
      },
      p,
    );
  alarm("Api5xx", {
    namespace: "AWS/ApiGateway",
    metricName: "5XXError",
    dimensions: { ApiName: args.apiName, Stage: args.apiStageName },
    statistic: "Sum",
    period: 300,
    evaluationPeriods: 1,
    threshold: 5,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
  });
  args.functionNames.forEach((fn, i) => {
    alarm(`LambdaThrottles${i}`, {
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions: { FunctionName: fn },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });
  (args.failingFunctionNames ?? []).forEach((fn, i) => {
    // Two runs in a row: one S3 or database hiccup is retried by the next run anyway.
    alarm(`LambdaErrors${i}`, {
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: fn },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 2,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });
  (args.failureQueueNames ?? []).forEach((queue, i) => {
    alarm(`FailureQueue${i}`, {
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: queue },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  // The archive of the trail: its own bucket, encrypted with the logs key, versioned, access-logged.
  const logArchive = new aws.s3.Bucket(
    "LogArchiveBucket",
    { bucketPrefix: ctx.bucketPrefix("log-archive"), forceDestroy: !ctx.stage.protect },
    { ...p, ...ctx.keep },
  );
  hardenCommon(ctx, "LogArchiveBucket", logArchive, {
    sse: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.logsKeyArn },
    bucketKey: true,
  });
  new aws.s3.BucketLogging(
    "LogArchiveBucketLogging",
    { bucket: logArchive.id, targetBucket: args.accessLogBucketId, targetPrefix: "log-archive/" },
    p,
  );
  new aws.s3.BucketLifecycleConfiguration(
    "LogArchiveBucketLifecycle",
    {
      bucket: logArchive.id,
      rules: [
        {
          id: "retention",
          status: "Enabled",
          filter: {},
          expiration: { days: ctx.stage.storage.auditLogDays },
        },
      ],
    },
    p,
  );
  const trailName = ctx.name("audit");
  const trailArn = $interpolate`arn:aws:cloudtrail:${ctx.homeRegion}:${ctx.accountId}:trail/${trailName}`;
  const archivePolicy = new aws.s3.BucketPolicy(
    "LogArchiveBucketPolicy",
    {
      bucket: logArchive.id,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(logArchive.arn),
          {
            Sid: "CloudTrailAclCheck",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:GetBucketAcl",
            Resource: logArchive.arn,
            Condition: { StringEquals: { "aws:SourceArn": trailArn } },
          },
          {
            Sid: "CloudTrailWrite",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: $interpolate`${logArchive.arn}/AWSLogs/${ctx.accountId}/*`,
            Condition: {
              StringEquals: { "aws:SourceArn": trailArn, "s3:x-amz-acl": "bucket-owner-full-control" },
            },
          },
        ],
      }),
    },
    p,
  );

  const trailLogs = createLogGroup(ctx, "TrailLogs", `/veil/${ctx.stageName}/cloudtrail`, {
    logsKeyArn: args.logsKeyArn,
  });
  const trailRole = new aws.iam.Role(
    "TrailToLogsRole",
    {
      name: ctx.name("cloudtrail-logs"),
      assumeRolePolicy: serviceTrust("cloudtrail.amazonaws.com"),
    },
    p,
  );
  new aws.iam.RolePolicy(
    "TrailToLogsPolicy",
    {
      role: trailRole.name,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: $interpolate`${trailLogs.arn}:*`,
          },
        ],
      }),
    },
    p,
  );
  const trail = new aws.cloudtrail.Trail(
    "AuditTrail",
    {
      name: trailName,
      s3BucketName: logArchive.id,
      kmsKeyId: args.logsKeyArn,
      enableLogFileValidation: true,
      // IAM, STS and CloudFront calls (the rotation's UpdateDistribution among them) are global and are
      // delivered only to multi-region trails (or trails in us-east-1); edge-region calls need it too.
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: true,
      cloudWatchLogsGroupArn: $interpolate`${trailLogs.arn}:*`,
      cloudWatchLogsRoleArn: trailRole.arn,
      advancedEventSelectors: [
        {
          name: "Management events, including every KMS call",
          fieldSelectors: [{ field: "eventCategory", equals: ["Management"] }],
        },
        {
          name: "Object-level events on the data buckets",
          fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
            { field: "resources.ARN", startsWiths: args.dataBucketArns.map((arn) => $interpolate`${arn}/`) },
          ],
        },
      ],
    },
    { ...p, dependsOn: [archivePolicy] },
  );
  for (const [name, pattern] of Object.entries(trailMetricFilters)) {
    new aws.cloudwatch.LogMetricFilter(
      `${name}Filter`,
      {
        name: ctx.name(name),
        logGroupName: trailLogs.name,
        pattern,
        metricTransformation: { name, namespace: `Veil/${ctx.stageName}`, value: "1", defaultValue: "0" },
      },
      p,
    );
    alarm(name, {
      namespace: `Veil/${ctx.stageName}`,
      metricName: name,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  }
  return { topic, trail, logArchive };
}
