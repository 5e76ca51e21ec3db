/**
 * CloudFront field-level encryption. The RSA-2048 key pair is generated inside AWS by the
 * fle-key-bootstrap function (functions/src/fle-key-bootstrap), invoked once per key generation at
 * deploy time: it writes the private key straight into a Secrets Manager secret encrypted with the data
 * key and returns only the public key, which becomes the CloudFront public key. The private key never
 * passes through Pulumi state, the repository or a laptop. Raising `fleKeyGeneration` rotates: the
 * secret's new version becomes AWSCURRENT and the previous one stays as AWSPREVIOUS, so requests
 * encrypted under the old public key while the distribution deploys still decrypt.
 *
 * The field list comes from the classification (`fleFields` in @veil/core), never from a copy here.
 */
import { fleContentType, fleFields } from "@veil/core";
import type { Ctx } from "./context.ts";
import { policyJson } from "./context.ts";
import { fleSecretName } from "./kms.ts";
import { managedByKeyAdminOnly } from "./secrets.ts";

/** The provider ID of the FLE profile: the key namespace the handler's RSA keyring must use. */
export const fleProviderId = "veil";

/** CloudFront's public-key name for a generation: the key name the handler's RSA keyring must use. */
export function fleKeyName(ctx: Ctx): string {
  return ctx.name(`fle-${ctx.stage.fleKeyGeneration}`);
}

export interface FleSecret {
  readonly secret: aws.secretsmanager.Secret;
}

export interface FleSecretArgs {
  readonly dataKeyArn: $util.Input<string>;
  /** The only roles that may read the private key: the records function and the image ingest. */
  readonly readerRoleArns: $util.Input<string>[];
  readonly writerRoleArn: $util.Input<string>;
  /** The key-admin (deploy) role: the only one that may change the secret or its policy (secrets.ts). */
  readonly adminRoleArn: $util.Input<string>;
}

/**
 * Creates the private-key secret: encrypted with the data key, readable by the reader roles only,
 * written by the bootstrap role only, changed by the key-admin role only.
 */
export function createFleSecret(ctx: Ctx, args: FleSecretArgs): FleSecret {
  const p = { provider: ctx.home };
  const secret = new aws.secretsmanager.Secret(
    "FlePrivateKey",
    {
      name: fleSecretName(ctx),
      description: "CloudFront FLE private key (PEM), written only by the in-AWS key bootstrap",
      kmsKeyId: args.dataKeyArn,
      recoveryWindowInDays: ctx.stage.secretRecoveryWindowDays,
    },
    { ...p, ...ctx.keep },
  );
  new aws.secretsmanager.SecretPolicy(
    "FlePrivateKeyPolicy",
    {
      secretArn: secret.arn,
      blockPublicPolicy: true,
      policy: policyJson({
        Version: "2012-10-17",
        Statement: [
          managedByKeyAdminOnly({ accountId: ctx.accountId, adminRoleArn: args.adminRoleArn }),
          {
            Sid: "ReadByReaderRolesOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": args.readerRoleArns } },
          },
          {
            Sid: "WriteByBootstrapRoleOnly",
            Effect: "Deny",
            Principal: "*",
            Action: ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
            Resource: "*",
            Condition: { ArnNotEquals: { "aws:PrincipalArn": args.writerRoleArn } },
          },
        ],
      }),
    },
    p,
  );
  return { secret };
}

export interface FleArgs {
  readonly bootstrapFunctionName: $util.Input<string>;
  readonly secretArn: $util.Input<string>;
  /** Only invoke after the bootstrap role may write the secret. */
  readonly dependsOn: $util.Input<$util.Resource>[];
}

export interface Fle {
  readonly publicKey: aws.cloudfront.PublicKey;
  /** The key name stored with the private key (what an upload encrypted under the public key names). */
  readonly keyName: $util.Output<string>;
  readonly profile: aws.cloudfront.FieldLevelEncryptionProfile;
  readonly config: aws.cloudfront.FieldLevelEncryptionConfig;
}

/** What the bootstrap function returns (and all that Pulumi state ever holds of the key pair). */
interface BootstrapResult {
  readonly publicKeyPem: string;
  readonly keyName: string;
}

/** Invokes the key bootstrap for the current generation and registers the FLE profile and config. */
export function createFle(ctx: Ctx, args: FleArgs): Fle {
  const p = { provider: ctx.home };
  const keyName = fleKeyName(ctx);
  const invocation = new aws.lambda.Invocation(
    "FleKeyBootstrap",
    {
      functionName: args.bootstrapFunctionName,
      input: $jsonStringify({
        action: "generate",
        generation: ctx.stage.fleKeyGeneration,
        keyName,
        providerId: fleProviderId,
        secretId: args.secretArn,
      }),
      triggers: { generation: String(ctx.stage.fleKeyGeneration) },
    },
    { ...p, dependsOn: args.dependsOn },
  );
  const result = invocation.result.apply((r) => JSON.parse(r) as BootstrapResult);
  const publicKey = new aws.cloudfront.PublicKey(
    "FlePublicKey",
    {
      name: keyName,
      comment: `Veil ${ctx.stageName} FLE generation ${ctx.stage.fleKeyGeneration}`,
      encodedKey: result.apply((r) => r.publicKeyPem),
    },
    p,
  );
  const profile = new aws.cloudfront.FieldLevelEncryptionProfile(
    "FleProfile",
    {
      name: ctx.name("fle"),
      comment: "Sensitive fields of the record classification",
      encryptionEntities: {
        items: [
          {
            publicKeyId: publicKey.id,
            providerId: fleProviderId,
            fieldPatterns: { items: [...fleFields] },
          },
        ],
      },
    },
    p,
  );
  const config = new aws.cloudfront.FieldLevelEncryptionConfig(
    "FleConfig",
    {
      comment: `Veil ${ctx.stageName}: encrypt sensitive form fields at the edge`,
      contentTypeProfileConfig: {
        // Requests without a body (GET, DELETE) have no content type and must pass. A body of any
        // other type would pass too, in clear: the API behaviour's body guard (cdn.ts) refuses it first.
        forwardWhenContentTypeIsUnknown: true,
        contentTypeProfiles: {
          items: [{ contentType: fleContentType, format: "URLEncoded", profileId: profile.id }],
        },
      },
      queryArgProfileConfig: { forwardWhenQueryArgProfileIsUnknown: false, queryArgProfiles: { items: [] } },
    },
    p,
  );
  return { publicKey, keyName: result.apply((r) => r.keyName), profile, config };
}
