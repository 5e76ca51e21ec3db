/**
 * The S3 buckets. `images` (stored images) and `inbox` (uploads waiting for ingest) hold health data:
 * public access blocked, versioned, default encryption, a policy that refuses plain HTTP and every
 * principal but the function roles that use the bucket, server access logs to a separate bucket.
 *
 * - `images`: SSE-KMS with the data key and bucket keys (under the envelope encryption the objects
 *   already have). Replaced or deleted images stay as noncurrent versions for the stage's retention
 *   (`storage.noncurrentVersionDays`: 7 days dev, 30 sit, 90 prod), so `restore-image` can bring them
 *   back (after an accidental overwrite, or a record erased by mistake once the database is restored);
 *   then they are gone for good, and the delete markers left behind are removed. No CORS: browsers
 *   download through the API (streamed), never from the bucket.
 * - `inbox`: SSE-S3. The uploads are already encrypted to the FLE public key by the browser, and a
 *   presigned PUT runs with the signer's rights: SSE-KMS would give the images API role (the signer)
 *   a KMS right it otherwise never needs. CORS allows `PUT` from the site's origin only. Everything,
 *   current and noncurrent, expires after a day (uploads never ingested), incomplete multipart uploads
 *   are aborted after a day.
 *
 * The access-log bucket uses SSE-S3 because S3 log delivery cannot write to SSE-KMS buckets; it holds
 * request metadata, no object content.
 */
import type { Ctx, PolicyDocument } from "./context.ts";
import { denyInsecureTransport, policyJson } from "./context.ts";

/** `veil-<stage>-<part>-`: the name prefix of a data bucket (the key policy matches the images one). */
export function dataBucketPrefix(ctx: Ctx, part: "images" | "inbox"): string {
  return ctx.bucketPrefix(part);
}

/** Days an upload may wait in the inbox (current and noncurrent versions) before it expires. */
export const inboxExpiryDays = 1;

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
  /** Per bucket, the only principals whose requests on objects the bucket policy lets through. */
  readonly allowedRoleArns: {
    readonly images: $util.Input<string>[];
    readonly inbox: $util.Input<string>[];
  };
  /** Browser origin allowed to PUT uploads with presigned URLs. */
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
    { bucketPrefix: ctx.bucketPrefix("access-logs"), forceDestroy: !ctx.stage.protect },
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

  const make = (
    id: string,
    part: "images" | "inbox",
    o: {
      sse: { sseAlgorithm: string; kmsMasterKeyId?: $util.Input<string> };
      lifecycle: aws.types.input.s3.BucketLifecycleConfigurationRule;
      allowedRoleArns: $util.Input<string>[];
    },
  ): DataBucket => {
    const bucket = new aws.s3.Bucket(
      id,
      { bucketPrefix: dataBucketPrefix(ctx, part), forceDestroy: !ctx.stage.protect },
      { ...p, ...ctx.keep },
    );
    hardenCommon(ctx, id, bucket, { sse: o.sse, bucketKey: o.sse.sseAlgorithm === "aws:kms" });
    new aws.s3.BucketLogging(
      `${id}Logging`,
      { bucket: bucket.id, targetBucket: accessLogs.id, targetPrefix: `${part}/` },
      p,
    );
    new aws.s3.BucketLifecycleConfiguration(`${id}Lifecycle`, { bucket: bucket.id, rules: [o.lifecycle] }, p);
    new aws.s3.BucketPolicy(
      `${id}Policy`,
      { bucket: bucket.id, policy: policyJson(dataBucketPolicy(bucket.arn, o.allowedRoleArns)) },
      p,
    );
    return { bucket, arn: bucket.arn, name: bucket.bucket };
  };
  const images = make("ImagesBucket", "images", {
    sse: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.dataKeyArn },
    lifecycle: {
      id: "retain-then-expire-old-versions",
      status: "Enabled",
      filter: {},
      noncurrentVersionExpiration: { noncurrentDays: ctx.stage.storage.noncurrentVersionDays },
      // A delete marker whose versions have all expired is removed too: nothing of the key remains.
      expiration: { expiredObjectDeleteMarker: true },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
    },
    allowedRoleArns: args.allowedRoleArns.images,
  });
  const inbox = make("InboxBucket", "inbox", {
    sse: { sseAlgorithm: "AES256" },
    lifecycle: {
      id: "expire-uploads",
      status: "Enabled",
      filter: {},
      expiration: { days: inboxExpiryDays },
      noncurrentVersionExpiration: { noncurrentDays: inboxExpiryDays },
      abortIncompleteMultipartUpload: { daysAfterInitiation: inboxExpiryDays },
    },
    allowedRoleArns: args.allowedRoleArns.inbox,
  });
  new aws.s3.BucketCorsConfiguration(
    "InboxBucketCors",
    {
      bucket: inbox.bucket.id,
      corsRules: [
        {
          allowedOrigins: [args.webOrigin],
          allowedMethods: ["PUT"],
          allowedHeaders: ["content-type"],
          maxAgeSeconds: 600,
        },
      ],
    },
    p,
  );

  return { images, inbox, accessLogs };
}

/**
 * The access-log bucket's policy: S3 log delivery may write for exactly the buckets that log into it
 * (every `BucketLogging` targeting it, including the log archive made by observability.ts), from this
 * account. Created once all of them exist, so none is left out.
 */
export function allowAccessLogDelivery(
  ctx: Ctx,
  accessLogs: aws.s3.Bucket,
  sourceBucketArns: $util.Input<string>[],
): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
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
              ArnLike: { "aws:SourceArn": sourceBucketArns },
            },
          },
        ],
      }),
    },
    { provider: ctx.home },
  );
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
