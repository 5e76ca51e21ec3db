/**
 * Least-privilege identity policies of the data-handling roles, next to each other so a reviewer sees
 * everything a role may do in one place. Key use is granted by the key policy (kms.ts); these policies
 * add the same three key actions only on this key, so neither side alone is enough to widen access.
 */
import type { Ctx } from "./context.ts";
import { keyUseActions } from "./kms.ts";
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

/** Attaches the policies of the API, ingest and FLE-bootstrap roles; returns them for `dependsOn`. */
export function grantDataAccess(ctx: Ctx, a: GrantArgs): aws.iam.RolePolicy[] {
  const useKey = { Sid: "UseDataKey", Effect: "Allow", Action: [...keyUseActions], Resource: [a.dataKeyArn] };
  const connect = {
    Sid: "ConnectAsAppUser",
    Effect: "Allow",
    Action: "rds-db:connect",
    Resource: [a.dbConnectArn],
  };
  const api = grant(ctx, "ApiRolePolicy", a.roles.api, [
    ...baseStatements(a.logGroups.api, { vpc: true }),
    useKey,
    connect,
    {
      Sid: "ReadFlePrivateKey",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: [a.fleSecretArn],
      Condition: {
        "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"] },
      },
    },
    {
      Sid: "PresignUploadsAndImages",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"],
      Resource: [$interpolate`${a.inboxArn}/*`, $interpolate`${a.imagesArn}/*`],
    },
  ]);
  const ingest = grant(ctx, "IngestRolePolicy", a.roles.ingest, [
    ...baseStatements(a.logGroups.ingest, { vpc: true }),
    useKey,
    connect,
    {
      Sid: "ConsumeInbox",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObject"],
      Resource: [$interpolate`${a.inboxArn}/*`],
    },
    {
      Sid: "WriteImages",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: [$interpolate`${a.imagesArn}/*`],
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

/** Invokes the ingest function for every upload landing in the inbox. */
export function connectInbox(
  ctx: Ctx,
  a: {
    inboxId: $util.Input<string>;
    inboxArn: $util.Input<string>;
    functionName: $util.Input<string>;
    functionArn: $util.Input<string>;
  },
): void {
  const p = { provider: ctx.home };
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
      lambdaFunctions: [{ lambdaFunctionArn: a.functionArn, events: ["s3:ObjectCreated:*"] }],
    },
    { ...p, dependsOn: [permission] },
  );
}
