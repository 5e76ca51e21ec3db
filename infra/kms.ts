/**
 * The customer-managed keys.
 *
 * `dataKey` protects health data (records, images, the FLE private key, database storage). Its policy
 * grants cryptographic use to the function roles only, each for its own kind of data: the records
 * function all three key actions; the image ingest `GenerateDataKey` and the image download `Decrypt`,
 * both only for ciphertexts whose context says purpose `record.image` (and for the images bucket's
 * SSE-KMS through S3); the ingest reads the FLE private key through Secrets Manager. A key-admin role
 * (the deploy role) may manage the key but not use it; AWS services may get grants only through RDS.
 *
 * Their policies are documents of `key-policies.ts`.
 */
import { type Ctx, policyJson } from "./context.ts";
import { dataKeyPolicy, logsKeyPolicy } from "./key-policies.ts";
import type { FunctionRoles } from "./roles.ts";
import { dataBucketPrefix } from "./storage.ts";

/**
 * What every customer-managed key of Veil is: symmetric, rotated yearly, 30 days to cancel a deletion,
 * one region (a multi-Region key would carry health-data keys out of the home region).
 */
export const customerKeySettings = {
  keyUsage: "ENCRYPT_DECRYPT",
  customerMasterKeySpec: "SYMMETRIC_DEFAULT",
  enableKeyRotation: true,
  rotationPeriodInDays: 365,
  deletionWindowInDays: 30,
  multiRegion: false,
} as const;

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
  /**
   * Macie's service-linked role when the account baseline scans the images bucket (baseline.ts): it may
   * decrypt the bucket's SSE-KMS layer through S3 only, and so sees the envelope ciphertext.
   */
  readonly imageScannerRoleArn?: $util.Input<string>;
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
      ...customerKeySettings,
      bypassPolicyLockoutSafetyCheck: false,
      policy: policyJson(
        dataKeyPolicy({
          accountId: ctx.accountId,
          region: ctx.homeRegion,
          adminRoleArn: keyAdminRoleArn,
          useRoleArns: [args.roles.api.arn],
          imageWriterRoleArn: args.roles.ingest.arn,
          imageReaderRoleArn: args.roles.imagesDownload.arn,
          imagesBucketArnPattern: `arn:aws:s3:::${dataBucketPrefix(ctx, "images")}*`,
          fleBootstrapRoleArn: args.roles.fleBootstrap.arn,
          fleSecretNamePrefix: fleSecretName(ctx),
          imageScannerRoleArn: args.imageScannerRoleArn,
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
      ...customerKeySettings,
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
