/**
 * The S3 buckets. `images` (encrypted images) and `inbox` (uploads waiting for ingest) hold health
 * data: public access blocked, versioned, SSE-KMS with the data key and bucket keys, a policy that
 * refuses plain HTTP and every principal but the function roles, server access logs to a separate
 * bucket, and expiry of old versions. The access-log bucket uses SSE-S3 because S3 log delivery cannot
 * write to SSE-KMS buckets; it holds request metadata, no object content.
 */
import type { Ctx, PolicyDocument } from "./context.ts";
import { denyInsecureTransport, policyJson } from "./context.ts";

/** Object-level and listing actions: what the "only the function roles" rule denies everyone else. */
export const dataPlaneActions = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:GetObjectAttributes",
  "s3:GetObjectVersionAttributes",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:RestoreObject",
  "s3:ListBucket",
  "s3:ListBucketVersions",
  "s3:ListMultipartUploadParts",
  "s3:AbortMultipartUpload",
  "s3:PutObjectAcl",
  "s3:GetObjectAcl",
] as const;

export interface DataBucket {
  readonly bucket: aws.s3.Bucket;
  readonly arn: $util.Output<string>;
  readonly name: $util.Output<string>;
}

export interface Storage {
  readonly images: DataBucket;
  readonly inbox: DataBucket;
  readonly accessLogs: aws.s3.Bucket;
}

export interface StorageArgs {
  readonly dataKeyArn: $util.Input<string>;
  /** The only principals that may read or write objects. */
  readonly allowedRoleArns: $util.Input<string>[];
  /** Browser origin allowed to PUT uploads and GET images with presigned URLs. */
  readonly webOrigin: string;
}

/** The bucket policy of a data bucket (exported for the policy tests). */
export function dataBucketPolicy(
  bucketArn: $util.Input<string>,
  allowedRoleArns: $util.Input<string>[],
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      denyInsecureTransport(bucketArn),
      {
        Sid: "DenyDataAccessExceptFunctionRoles",
        Effect: "Deny",
        Principal: "*",
        Action: [...dataPlaneActions],
        Resource: [bucketArn, $interpolate`${bucketArn}/*`],
        Condition: { ArnNotEquals: { "aws:PrincipalArn": allowedRoleArns } },
      },
    ],
  };
}

/** Creates the access-log bucket and the two data buckets with all their controls. */
export function createStorage(ctx: Ctx, args: StorageArgs): Storage {
  const p = { provider: ctx.home };
  const accessLogs = new aws.s3.Bucket(
    "AccessLogBucket",
    { bucketPrefix: `${ctx.name("access-logs")}-`, forceDestroy: !ctx.stage.protect },
    { ...p, ...ctx.keep },
  );
  hardenCommon(ctx, "AccessLogBucket", accessLogs, { sse: { sseAlgorithm: "AES256" } });
  new aws.s3.BucketLifecycleConfiguration(
    "AccessLogBucketLifecycle",
    {
      bucket: accessLogs.id,
      rules: [
        {
          id: "expire-logs",
          status: "Enabled",
          filter: {},
          expiration: { days: ctx.stage.storage.auditLogDays },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
      ],
    },
    p,
  );

  const make = (id: string, part: "images" | "inbox", methods: string[]): DataBucket => {
    const bucket = new aws.s3.Bucket(
      id,
      { bucketPrefix: `${ctx.name(part)}-`, forceDestroy: !ctx.stage.protect },
      { ...p, ...ctx.keep },
    );
    hardenCommon(ctx, id, bucket, {
      sse: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.dataKeyArn },
      bucketKey: true,
    });
    new aws.s3.BucketLogging(
      `${id}Logging`,
      { bucket: bucket.id, targetBucket: accessLogs.id, targetPrefix: `${part}/` },
      p,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${id}Lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: ctx.stage.storage.noncurrentVersionDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      p,
    );
    new aws.s3.BucketCorsConfiguration(
      `${id}Cors`,
      {
        bucket: bucket.id,
        corsRules: [
          {
            allowedOrigins: [args.webOrigin],
            allowedMethods: methods,
            allowedHeaders: ["content-type", "content-md5", "x-amz-*"],
            maxAgeSeconds: 600,
          },
        ],
      },
      p,
    );
    new aws.s3.BucketPolicy(
      `${id}Policy`,
      { bucket: bucket.id, policy: policyJson(dataBucketPolicy(bucket.arn, args.allowedRoleArns)) },
      p,
    );
    return { bucket, arn: bucket.arn, name: bucket.bucket };
  };
  const images = make("ImagesBucket", "images", ["GET"]);
  const inbox = make("InboxBucket", "inbox", ["PUT"]);

  new aws.s3.BucketPolicy(
    "AccessLogBucketPolicy",
    {
      bucket: accessLogs.id,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          denyInsecureTransport(accessLogs.arn),
          {
            Sid: "S3ServerAccessLogDelivery",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: $interpolate`${accessLogs.arn}/*`,
            Condition: {
              StringEquals: { "aws:SourceAccount": ctx.accountId },
              ArnLike: { "aws:SourceArn": [images.arn, inbox.arn] },
            },
          },
        ],
      }),
    },
    p,
  );
  return { images, inbox, accessLogs };
}

/** Public access block, owner-enforced ownership, versioning and default encryption. */
export function hardenCommon(
  ctx: Ctx,
  id: string,
  bucket: aws.s3.Bucket,
  enc: { sse: { sseAlgorithm: string; kmsMasterKeyId?: $util.Input<string> }; bucketKey?: boolean },
): void {
  const p = { provider: ctx.home };
  new aws.s3.BucketPublicAccessBlock(
    `${id}PublicAccessBlock`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    p,
  );
  new aws.s3.BucketOwnershipControls(
    `${id}Ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    p,
  );
  new aws.s3.BucketVersioning(
    `${id}Versioning`,
    { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
    p,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${id}Encryption`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: enc.sse, bucketKeyEnabled: enc.bucketKey ?? false }],
    },
    p,
  );
}
