/**
 * The key of the idempotency request hash: a Secrets Manager secret of its own, encrypted with the data
 * key like the FLE private key, readable and writable by the records function's role only, changed by
 * the key-admin (deploy) role only (secrets.ts), and linked to that function only (`IdempotencySecret`).
 *
 * It is not derived from the FLE private key, so a keyed retry still replays after an FLE key rotation.
 * Pulumi creates the secret without a value: the records function's first use writes 32 random bytes
 * as its one first version, under a fixed request token that Secrets Manager will not accept twice with
 * another value (functions/src/records/request-hash.ts). The key therefore never passes through Pulumi
 * state, the repository or a laptop, and needs no deploy-time function. Key use needs nothing new: the
 * records role already holds Encrypt, Decrypt and GenerateDataKey on the data key (kms.ts).
 */
import { type Ctx, policyJson } from "./context.ts";
import { grant } from "./roles.ts";
import { managedByKeyAdminOnly, secretValueActions } from "./secrets.ts";

/** The secret's name. */
export function idempotencySecretName(ctx: Ctx): string {
  return ctx.name("idempotency-key");
}

export interface IdempotencySecretArgs {
  readonly dataKeyArn: $util.Input<string>;
  /** The records function's role: the only reader and writer. */
  readonly recordsRole: aws.iam.Role;
  /** The key-admin (deploy) role: the only one that may change the secret or its policy (secrets.ts). */
  readonly adminRoleArn: $util.Input<string>;
}

export interface IdempotencySecret {
  readonly secret: aws.secretsmanager.Secret;
  /** Link it to the records function only. */
  readonly link: sst.Linkable<{ secretArn: $util.Output<string> }>;
  /** The records role's right to it; a function using it should depend on this. */
  readonly policy: aws.iam.RolePolicy;
}

/** The actions on the key's value: only the records role may take them, whatever IAM says elsewhere. */
export const idempotencySecretValueActions = secretValueActions;

/** Creates the secret, its resource policy, the records role's grant and the link. */
export function createIdempotencySecret(ctx: Ctx, args: IdempotencySecretArgs): IdempotencySecret {
  const p = { provider: ctx.home };
  const secret = new aws.secretsmanager.Secret(
    "IdempotencyKey",
    {
      name: idempotencySecretName(ctx),
      description:
        "Key of the idempotency request hash (32 random bytes), written once by the records function",
      kmsKeyId: args.dataKeyArn,
      // Fixed name, like the FLE secret: no recovery window on unprotected stages, or a removed stage
      // could not be deployed again for a week (stage.ts).
      recoveryWindowInDays: ctx.stage.secretRecoveryWindowDays,
    },
    { ...p, ...ctx.keep },
  );
  new aws.secretsmanager.SecretPolicy(
    "IdempotencyKeyPolicy",
    {
      secretArn: secret.arn,
      blockPublicPolicy: true,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          managedByKeyAdminOnly({ accountId: ctx.accountId, adminRoleArn: args.adminRoleArn }),
          {
            Sid: "ValueOnlyForTheRecordsRole",
            Effect: "Deny",
            Principal: "*",
            Action: [...idempotencySecretValueActions],
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": args.recordsRole.arn } },
          },
        ],
      }),
    },
    p,
  );
  const policy = grant(ctx, "ApiIdempotencyKeyPolicy", args.recordsRole, [
    {
      Sid: "ReadOrWriteFirstIdempotencyKey",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
      Resource: [secret.arn],
    },
  ]);
  const link = new sst.Linkable("IdempotencySecret", { properties: { secretArn: secret.arn } });
  return { secret, link, policy };
}
