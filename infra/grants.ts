/**
 * Least-privilege identity policies of the data-handling roles, next to each other so a reviewer sees
 * everything a role may do in one place (the table in functions/src/images/README.md says the same for
 * the image functions). Key use is granted by the key policy (kms.ts) too, with the same conditions, so
 * neither side alone is enough to widen access. Object rights are scoped to the key prefix each
 * function uses (`inbox/`, `images/`).
 */
import { imageObjectPrefixes } from "@veil/core";
import type { Ctx } from "./context.ts";
import {
  imagePurposeCondition,
  keyUseActions,
  viaS3Condition,
  viaSecretsManagerCondition,
} from "./key-policies.ts";
import type { FunctionRoles } from "./roles.ts";
import { baseStatements, grant } from "./roles.ts";

export interface GrantArgs {
  readonly roles: FunctionRoles;
  readonly dataKeyArn: $util.Input<string>;
  readonly imagesArn: $util.Input<string>;
  readonly inboxArn: $util.Input<string>;
  readonly dbConnectArn: $util.Input<string>;
  readonly fleSecretArn: $util.Input<string>;
  readonly logGroups: {
    api: $util.Input<string>;
    ingest: $util.Input<string>;
    fleBootstrap: $util.Input<string>;
  };
}

const connectStatement = (dbConnectArn: $util.Input<string>) => ({
  Sid: "ConnectAsAppUser",
  Effect: "Allow",
  Action: "rds-db:connect",
  Resource: [dbConnectArn],
});

const readFleSecret = (fleSecretArn: $util.Input<string>) => ({
  Sid: "ReadFlePrivateKey",
  Effect: "Allow",
  Action: "secretsmanager:GetSecretValue",
  Resource: [fleSecretArn],
  Condition: {
    "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"] },
  },
});

/**
 * Attaches the policies of the records API, ingest and FLE-bootstrap roles; returns them for
 * `dependsOn` (the FLE bootstrap invocation needs its role's policy first).
 */
export function grantDataAccess(ctx: Ctx, a: GrantArgs): aws.iam.RolePolicy[] {
  const api = grant(ctx, "ApiRolePolicy", a.roles.api, [
    ...baseStatements(a.logGroups.api, { vpc: true }),
    { Sid: "UseDataKey", Effect: "Allow", Action: [...keyUseActions], Resource: [a.dataKeyArn] },
    connectStatement(a.dbConnectArn),
    readFleSecret(a.fleSecretArn),
  ]);
  const ingest = grant(ctx, "IngestRolePolicy", a.roles.ingest, [
    ...baseStatements(a.logGroups.ingest, { vpc: true }),
    {
      Sid: "EncryptImagesOnly",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey"],
      Resource: [a.dataKeyArn],
      Condition: imagePurposeCondition,
    },
    {
      // SSE-KMS of the images bucket; a multipart upload needs Decrypt as well.
      Sid: "ImagesBucketEncryption",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: [a.dataKeyArn],
      Condition: viaS3Condition(ctx.homeRegion, [a.imagesArn]),
    },
    readFleSecret(a.fleSecretArn),
    {
      Sid: "DecryptFlePrivateKeySecret",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [a.dataKeyArn],
      Condition: viaSecretsManagerCondition(ctx.homeRegion, [a.fleSecretArn]),
    },
    connectStatement(a.dbConnectArn),
    {
      Sid: "ConsumeInbox",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObjectVersion"],
      Resource: [$interpolate`${a.inboxArn}/${imageObjectPrefixes.inbox}*`],
    },
    {
      Sid: "WriteImages",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObjectVersion"],
      Resource: [$interpolate`${a.imagesArn}/${imageObjectPrefixes.images}*`],
    },
  ]);
  const bootstrap = grant(ctx, "FleBootstrapRolePolicy", a.roles.fleBootstrap, [
    ...baseStatements(a.logGroups.fleBootstrap, { vpc: false }),
    {
      Sid: "WriteFlePrivateKey",
      Effect: "Allow",
      Action: "secretsmanager:PutSecretValue",
      Resource: [a.fleSecretArn],
    },
  ]);
  return [api, ingest, bootstrap];
}

export interface ImageGrantArgs {
  readonly roles: FunctionRoles;
  readonly dataKeyArn: $util.Input<string>;
  readonly imagesArn: $util.Input<string>;
  readonly inboxArn: $util.Input<string>;
  readonly dbConnectArn: $util.Input<string>;
  readonly logGroups: {
    imagesApi: $util.Input<string>;
    imagesDownload: $util.Input<string>;
    imagesCleanup: $util.Input<string>;
  };
}

/**
 * Attaches the policies of the images API, download and cleanup roles (made after the FLE key exists,
 * whose public key the images API is linked to).
 */
export function grantImageAccess(ctx: Ctx, a: ImageGrantArgs): aws.iam.RolePolicy[] {
  const imagesApi = grant(ctx, "ImagesApiRolePolicy", a.roles.imagesApi, [
    ...baseStatements(a.logGroups.imagesApi, { vpc: true }),
    connectStatement(a.dbConnectArn),
    {
      // Only to sign upload URLs: the browser's PUT runs with these rights. No read, no KMS.
      Sid: "PresignInboxUploads",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [$interpolate`${a.inboxArn}/${imageObjectPrefixes.inbox}*`],
    },
  ]);
  const download = grant(ctx, "ImagesDownloadRolePolicy", a.roles.imagesDownload, [
    ...baseStatements(a.logGroups.imagesDownload, { vpc: true }),
    {
      Sid: "DecryptImagesOnly",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [a.dataKeyArn],
      Condition: imagePurposeCondition,
    },
    {
      Sid: "ImagesBucketDecryption",
      Effect: "Allow",
      Action: ["kms:Decrypt"],
      Resource: [a.dataKeyArn],
      Condition: viaS3Condition(ctx.homeRegion, [a.imagesArn]),
    },
    connectStatement(a.dbConnectArn),
    {
      Sid: "ReadImages",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [$interpolate`${a.imagesArn}/${imageObjectPrefixes.images}*`],
    },
  ]);
  const cleanup = grant(ctx, "ImagesCleanupRolePolicy", a.roles.imagesCleanup, [
    ...baseStatements(a.logGroups.imagesCleanup, { vpc: true }),
    connectStatement(a.dbConnectArn),
    {
      // The stored images of erased records: a delete marker makes them noncurrent, the bucket's
      // lifecycle expires them after the retention. Not DeleteObjectVersion: history goes by lifecycle.
      Sid: "DeleteImagesOfErasedRecords",
      Effect: "Allow",
      Action: ["s3:DeleteObject"],
      Resource: [$interpolate`${a.imagesArn}/${imageObjectPrefixes.images}*`],
    },
  ]);
  return [imagesApi, download, cleanup];
}

/**
 * Attaches the account role's policy: the database, and delete markers on the caller's objects in both
 * buckets (prefix-scoped; the owner is checked by the function, as for every role). Not
 * `DeleteObjectVersion`: noncurrent versions go by the buckets' lifecycle, as for the image cleanup.
 */
export function grantAccountAccess(
  ctx: Ctx,
  a: {
    role: aws.iam.Role;
    imagesArn: $util.Input<string>;
    inboxArn: $util.Input<string>;
    dbConnectArn: $util.Input<string>;
    logGroupArn: $util.Input<string>;
  },
): aws.iam.RolePolicy {
  return grant(ctx, "AccountRolePolicy", a.role, [
    ...baseStatements(a.logGroupArn, { vpc: true }),
    connectStatement(a.dbConnectArn),
    {
      Sid: "DeleteObjectsOfErasedAccounts",
      Effect: "Allow",
      Action: ["s3:DeleteObject"],
      Resource: [
        $interpolate`${a.imagesArn}/${imageObjectPrefixes.images}*`,
        $interpolate`${a.inboxArn}/${imageObjectPrefixes.inbox}*`,
      ],
    },
  ]);
}

/** Lambda's asynchronous retries of a failed ingest (S3 notifications are asynchronous invocations). */
export const ingestRetryAttempts = 2;

/**
 * Invokes the ingest function for every upload landing under `inbox/` in the inbox bucket: asynchronous,
 * retried twice; an event that still fails lands in a queue (the S3 event record: bucket, key — ids,
 * no content), where an operator can see it and send it again. The image row meanwhile stays `pending`
 * and the owner sees it as failed once its upload window has passed.
 */
export function connectInbox(
  ctx: Ctx,
  a: {
    inboxId: $util.Input<string>;
    inboxArn: $util.Input<string>;
    functionName: $util.Input<string>;
    functionArn: $util.Input<string>;
    role: aws.iam.Role;
    /** Send uploads to the ingest only after these (the database bootstrap: the ingest writes rows). */
    dependsOn: $util.Input<$util.Resource>[];
  },
): { failures: aws.sqs.Queue } {
  const p = { provider: ctx.home };
  const failures = new aws.sqs.Queue(
    "IngestFailures",
    {
      name: ctx.name("ingest-failures"),
      messageRetentionSeconds: 14 * 24 * 3600,
      sqsManagedSseEnabled: true,
    },
    p,
  );
  const send = grant(ctx, "IngestFailureDestinationPolicy", a.role, [
    { Sid: "ReportFailedIngests", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [failures.arn] },
  ]);
  new aws.lambda.FunctionEventInvokeConfig(
    "IngestInvokeConfig",
    {
      functionName: a.functionName,
      maximumRetryAttempts: ingestRetryAttempts,
      maximumEventAgeInSeconds: 6 * 3600,
      destinationConfig: { onFailure: { destination: failures.arn } },
    },
    { ...p, dependsOn: [send] },
  );
  const permission = new aws.lambda.Permission(
    "InboxInvokesIngest",
    {
      action: "lambda:InvokeFunction",
      function: a.functionName,
      principal: "s3.amazonaws.com",
      sourceArn: a.inboxArn,
      sourceAccount: ctx.accountId,
    },
    p,
  );
  new aws.s3.BucketNotification(
    "InboxNotification",
    {
      bucket: a.inboxId,
      lambdaFunctions: [
        {
          lambdaFunctionArn: a.functionArn,
          events: ["s3:ObjectCreated:*"],
          filterPrefix: imageObjectPrefixes.inbox,
        },
      ],
    },
    { ...p, dependsOn: [permission, ...a.dependsOn] },
  );
  return { failures };
}
