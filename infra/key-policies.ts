/**
 * The key policies of the customer-managed keys (`kms.ts`), as documents the tests simulate.
 *
 * Trade-off of the account-root statement: AWS's default key policy gives `kms:*` to the account root,
 * which delegates the key to IAM — any principal whose IAM policy says `kms:Decrypt` could then decrypt
 * health data. The data key does NOT delegate to IAM. Its root statement is limited to the root *user*
 * (`aws:PrincipalType = Account`) and to management actions, as a sealed break-glass path if the admin
 * role is lost. Cost: a lost admin role plus a lost root user means a support case; and the admin (and
 * the root user) can still rewrite the policy — an alarm on `PutKeyPolicy` (observability.ts) makes
 * that visible. `logsKey` protects operational logs and the audit trail, which hold no health data, and
 * keeps the default IAM delegation so auditors can be given read access by IAM.
 */
import { encryptionPurposes } from "@veil/core";
import type { PolicyDocument } from "./context.ts";

/** Management actions; deliberately excludes every use (Encrypt, Decrypt, GenerateDataKey, ReEncrypt) and CreateGrant. */
export const keyAdminActions = [
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListResourceTags",
  "kms:ListKeyRotations",
  "kms:PutKeyPolicy",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:RevokeGrant",
  "kms:RetireGrant",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
] as const;

/** The only cryptographic operations the function roles get. */
export const keyUseActions = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"] as const;

/** The condition "the ciphertext is a stored image": KMS sees the `purpose` of the envelope context. */
export const imagePurposeCondition = {
  StringEquals: { "kms:EncryptionContext:purpose": encryptionPurposes.recordImage },
} as const;

/** The condition "S3 uses the key for SSE-KMS of these buckets" (bucket keys: the context is the bucket ARN). */
export function viaS3Condition(region: string, bucketArns: $util.Input<string>[]) {
  return {
    StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` },
    StringLike: { "kms:EncryptionContext:aws:s3:arn": bucketArns },
  };
}

/** The condition "Secrets Manager decrypts the FLE private-key secret for the caller". */
export function viaSecretsManagerCondition(region: string, secretArns: $util.Input<string>[]) {
  return {
    StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` },
    StringLike: { "kms:EncryptionContext:SecretARN": secretArns },
  };
}

/** The data-key policy, as a document (exported for the policy tests). */
export function dataKeyPolicy(p: {
  accountId: $util.Input<string>;
  region: string;
  adminRoleArn: $util.Input<string>;
  /** The records function: every key use (its fields, the FLE private key through Secrets Manager). */
  useRoleArns: $util.Input<string>[];
  /** The image ingest: data keys for stored images, SSE-KMS writes of the images bucket, the FLE secret. */
  imageWriterRoleArn: $util.Input<string>;
  /** The image download: decrypts stored images and reads them from the SSE-KMS images bucket. */
  imageReaderRoleArn: $util.Input<string>;
  /** ARN pattern of the images bucket (the key exists before the bucket, whose name has a random suffix). */
  imagesBucketArnPattern: string;
  fleBootstrapRoleArn: $util.Input<string>;
  fleSecretNamePrefix: string;
  /** Reads the images bucket's objects through S3 (SSE-KMS layer only): Macie's classification job. */
  imageScannerRoleArn?: $util.Input<string>;
}): PolicyDocument {
  const fleSecretArns = [
    $interpolate`arn:aws:secretsmanager:${p.region}:${p.accountId}:secret:${p.fleSecretNamePrefix}*`,
  ];
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "KeyAdministrationWithoutUse",
        Effect: "Allow",
        Principal: { AWS: p.adminRoleArn },
        Action: [...keyAdminActions],
        Resource: "*",
      },
      {
        Sid: "GrantsOnlyForRdsStorage",
        Effect: "Allow",
        Principal: { AWS: p.adminRoleArn },
        Action: ["kms:CreateGrant"],
        Resource: "*",
        Condition: {
          Bool: { "kms:GrantIsForAWSResource": "true" },
          StringEquals: { "kms:ViaService": `rds.${p.region}.amazonaws.com` },
        },
      },
      {
        Sid: "UseByFunctionRolesOnly",
        Effect: "Allow",
        Principal: { AWS: p.useRoleArns },
        Action: [...keyUseActions],
        Resource: "*",
      },
      {
        Sid: "IngestEncryptsImagesOnly",
        Effect: "Allow",
        Principal: { AWS: p.imageWriterRoleArn },
        Action: ["kms:GenerateDataKey"],
        Resource: "*",
        Condition: imagePurposeCondition,
      },
      {
        Sid: "DownloadDecryptsImagesOnly",
        Effect: "Allow",
        Principal: { AWS: p.imageReaderRoleArn },
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: imagePurposeCondition,
      },
      {
        // Multipart uploads to an SSE-KMS bucket need Decrypt as well as GenerateDataKey.
        Sid: "IngestWritesImagesBucketThroughS3",
        Effect: "Allow",
        Principal: { AWS: p.imageWriterRoleArn },
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "*",
        Condition: viaS3Condition(p.region, [p.imagesBucketArnPattern]),
      },
      {
        Sid: "DownloadReadsImagesBucketThroughS3",
        Effect: "Allow",
        Principal: { AWS: p.imageReaderRoleArn },
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: viaS3Condition(p.region, [p.imagesBucketArnPattern]),
      },
      ...(p.imageScannerRoleArn
        ? [
            {
              Sid: "ScannerReadsImagesBucketThroughS3",
              Effect: "Allow",
              Principal: { AWS: p.imageScannerRoleArn },
              Action: ["kms:Decrypt"],
              Resource: "*",
              Condition: viaS3Condition(p.region, [p.imagesBucketArnPattern]),
            },
          ]
        : []),
      {
        Sid: "IngestReadsFlePrivateKeySecretOnly",
        Effect: "Allow",
        Principal: { AWS: p.imageWriterRoleArn },
        Action: ["kms:Decrypt"],
        Resource: "*",
        Condition: viaSecretsManagerCondition(p.region, fleSecretArns),
      },
      {
        Sid: "FleBootstrapWritesPrivateKeySecretOnly",
        Effect: "Allow",
        Principal: { AWS: p.fleBootstrapRoleArn },
        Action: ["kms:GenerateDataKey"],
        Resource: "*",
        Condition: viaSecretsManagerCondition(p.region, fleSecretArns),
      },
      {
        Sid: "BreakGlassRootUserManagementOnly",
        Effect: "Allow",
        Principal: { AWS: $interpolate`arn:aws:iam::${p.accountId}:root` },
        Action: [...keyAdminActions],
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalType": "Account" } },
      },
    ],
  };
}

/**
 * The logs-key policy: CloudWatch Logs, CloudTrail, and CloudWatch alarms and EventBridge finding rules
 * (publishing to the encrypted alarm topic) may use it.
 */
export function logsKeyPolicy(p: {
  accountId: $util.Input<string>;
  region: string;
  adminRoleArn: $util.Input<string>;
}): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountIamDelegation",
        Effect: "Allow",
        Principal: { AWS: $interpolate`arn:aws:iam::${p.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchLogsOfThisAccount",
        Effect: "Allow",
        Principal: { Service: `logs.${p.region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": $interpolate`arn:aws:logs:${p.region}:${p.accountId}:log-group:*`,
          },
        },
      },
      {
        Sid: "CloudTrailOfThisAccount",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: "*",
        Condition: {
          StringLike: {
            "kms:EncryptionContext:aws:cloudtrail:arn": $interpolate`arn:aws:cloudtrail:*:${p.accountId}:trail/*`,
          },
        },
      },
      {
        Sid: "CloudWatchAlarmsToEncryptedTopic",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": p.accountId } },
      },
      {
        Sid: "EventBridgeFindingsToEncryptedTopic",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
        Resource: "*",
        Condition: { StringEquals: { "aws:SourceAccount": p.accountId } },
      },
    ],
  };
}
