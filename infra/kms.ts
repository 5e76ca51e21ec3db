/**
 * The customer-managed keys.
 *
 * `dataKey` protects health data (records, images, the FLE private key, database storage). Its policy
 * grants cryptographic use to the API and ingest function roles only; a key-admin role (the deploy
 * role) may manage the key but not use it; AWS services may get grants only through RDS.
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
import { type Ctx, type PolicyDocument, policyJson } from "./context.ts";
import type { FunctionRoles } from "./roles.ts";

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

export interface Keys {
  readonly dataKey: aws.kms.Key;
  readonly dataKeyAlias: aws.kms.Alias;
  readonly logsKey: aws.kms.Key;
  readonly keyAdminRoleArn: $util.Output<string>;
}

export interface KeysArgs {
  readonly roles: FunctionRoles;
  /** The role allowed to manage (not use) the keys; defaults to the stage's CI deploy role. */
  readonly keyAdminRoleArn?: string;
}

/** The data-key policy, as a document (exported for the policy tests). */
export function dataKeyPolicy(p: {
  accountId: $util.Input<string>;
  region: string;
  adminRoleArn: $util.Input<string>;
  useRoleArns: $util.Input<string>[];
  fleBootstrapRoleArn: $util.Input<string>;
  fleSecretNamePrefix: string;
}): PolicyDocument {
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
        Sid: "FleBootstrapWritesPrivateKeySecretOnly",
        Effect: "Allow",
        Principal: { AWS: p.fleBootstrapRoleArn },
        Action: ["kms:GenerateDataKey"],
        Resource: "*",
        Condition: {
          StringEquals: { "kms:ViaService": `secretsmanager.${p.region}.amazonaws.com` },
          StringLike: {
            "kms:EncryptionContext:SecretARN": $interpolate`arn:aws:secretsmanager:${p.region}:${p.accountId}:secret:${p.fleSecretNamePrefix}*`,
          },
        },
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

/** The logs-key policy: CloudWatch Logs, CloudTrail and CloudWatch alarms (SNS) may use it. */
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
    ],
  };
}

/** The FLE private-key secret's name prefix (the key policy and the secret module both use it). */
export function fleSecretName(ctx: Ctx): string {
  return ctx.name("fle-private-key");
}

/** Creates the data key and the logs key with their aliases. */
export function createKeys(ctx: Ctx, args: KeysArgs): Keys {
  const keyAdminRoleArn = args.keyAdminRoleArn
    ? $util.output(args.keyAdminRoleArn)
    : $interpolate`arn:aws:iam::${ctx.accountId}:role/veil-deploy-${ctx.stageName}`;
  const dataKey = new aws.kms.Key(
    "DataKey",
    {
      description: `Veil ${ctx.stageName}: health data (records, images, FLE private key, database)`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      deletionWindowInDays: 30,
      multiRegion: false,
      bypassPolicyLockoutSafetyCheck: false,
      policy: policyJson(
        dataKeyPolicy({
          accountId: ctx.accountId,
          region: ctx.homeRegion,
          adminRoleArn: keyAdminRoleArn,
          useRoleArns: [args.roles.api.arn, args.roles.ingest.arn],
          fleBootstrapRoleArn: args.roles.fleBootstrap.arn,
          fleSecretNamePrefix: fleSecretName(ctx),
        }),
      ),
    },
    { provider: ctx.home, ...ctx.keep },
  );
  const dataKeyAlias = new aws.kms.Alias(
    "DataKeyAlias",
    { name: `alias/${ctx.name("data")}`, targetKeyId: dataKey.keyId },
    { provider: ctx.home },
  );
  const logsKey = new aws.kms.Key(
    "LogsKey",
    {
      description: `Veil ${ctx.stageName}: operational logs, audit trail, alarm topic`,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      deletionWindowInDays: 30,
      multiRegion: false,
      policy: policyJson(
        logsKeyPolicy({ accountId: ctx.accountId, region: ctx.homeRegion, adminRoleArn: keyAdminRoleArn }),
      ),
    },
    { provider: ctx.home, ...ctx.keep },
  );
  new aws.kms.Alias(
    "LogsKeyAlias",
    { name: `alias/${ctx.name("logs")}`, targetKeyId: logsKey.keyId },
    { provider: ctx.home },
  );
  return { dataKey, dataKeyAlias, logsKey, keyAdminRoleArn };
}
