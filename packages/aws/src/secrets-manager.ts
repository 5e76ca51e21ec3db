/**
 * Secrets Manager `GetSecretValue` and `PutSecretValue`, typed and shaped as the AWS SDK v3 client
 * answers them. The calls go through `json-client.ts`.
 */
import { randomUUID } from "node:crypto";
import { type AwsClientOptions, createJsonClient } from "./json-client.ts";

/** Input of `getSecretValue`. */
export interface GetSecretValueInput {
  /** Name or ARN. */
  readonly SecretId: string;
  readonly VersionId?: string;
  /** Default (service side) `AWSCURRENT`. */
  readonly VersionStage?: string;
}

/** Answer of `getSecretValue`. */
export interface GetSecretValueOutput {
  readonly ARN?: string;
  readonly Name?: string;
  readonly VersionId?: string;
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
  readonly VersionStages?: string[];
}

/** Input of `putSecretValue`. */
export interface PutSecretValueInput {
  readonly SecretId: string;
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
  /** Idempotency token; a fresh UUID when omitted, as the SDK does. */
  readonly ClientRequestToken?: string;
  readonly VersionStages?: string[];
}

/** Answer of `putSecretValue`. */
export interface PutSecretValueOutput {
  readonly ARN?: string;
  readonly Name?: string;
  readonly VersionId?: string;
  readonly VersionStages?: string[];
}

/** The Secrets Manager calls Veil makes. */
export interface SecretsManagerClient {
  getSecretValue(input: GetSecretValueInput): Promise<GetSecretValueOutput>;
  putSecretValue(input: PutSecretValueInput): Promise<PutSecretValueOutput>;
}

/** Options of {@link createSecretsManagerClient}: see `AwsClientOptions`. */
export interface SecretsManagerClientOptions extends AwsClientOptions {}

/** Secrets Manager as `json-client.ts` calls it. */
export const secretsManagerService = {
  signingName: "secretsmanager",
  endpointPrefix: "secretsmanager",
  targetPrefix: "secretsmanager",
  endpointEnvId: "SECRETS_MANAGER",
} as const;

const text = (value: unknown) => (typeof value === "string" ? value : undefined);
const texts = (value: unknown) =>
  Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : undefined;
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/**
 * Creates a Secrets Manager client. Failures reject with `AwsServiceError` (`name` = the error code,
 * e.g. `ResourceNotFoundException`), `AwsNetworkError`, `AwsCredentialsError` or `AwsConfigError`.
 *
 * @example
 * const secrets = createSecretsManagerClient(); // region from AWS_REGION
 * const { SecretString } = await secrets.getSecretValue({ SecretId: arn, VersionStage: "AWSPREVIOUS" });
 */
export function createSecretsManagerClient(options: SecretsManagerClientOptions = {}): SecretsManagerClient {
  const client = createJsonClient(secretsManagerService, options);
  return {
    async getSecretValue(input) {
      const out = await client.call("GetSecretValue", defined({ ...input }));
      return defined({
        ARN: text(out.ARN),
        Name: text(out.Name),
        VersionId: text(out.VersionId),
        SecretString: text(out.SecretString),
        SecretBinary:
          typeof out.SecretBinary === "string"
            ? new Uint8Array(Buffer.from(out.SecretBinary, "base64"))
            : undefined,
        VersionStages: texts(out.VersionStages),
      });
    },
    async putSecretValue(input) {
      const out = await client.call(
        "PutSecretValue",
        defined({
          ...input,
          ClientRequestToken: input.ClientRequestToken ?? randomUUID(),
          SecretBinary: input.SecretBinary ? Buffer.from(input.SecretBinary).toString("base64") : undefined,
        }),
      );
      return defined({
        ARN: text(out.ARN),
        Name: text(out.Name),
        VersionId: text(out.VersionId),
        VersionStages: texts(out.VersionStages),
      });
    },
  };
}
