/**
 * @veil/aws — the few AWS calls the handlers make (KMS, Secrets Manager, RDS IAM tokens), on SigV4 and
 * node:http(s) instead of the AWS SDK v3 clients, for a smaller bundle and a faster cold start. See
 * README.md for what it does and what it deliberately does not do.
 */
export {
  type AwsCredentials,
  type ContainerCredentialsOptions,
  type CredentialsProvider,
  type CredentialsRequest,
  containerCredentials,
  containerCredentialsUrl,
  type DefaultCredentialsOptions,
  defaultCredentials,
  type Environment,
  environmentCredentials,
  readEnvironmentCredentials,
  staticCredentials,
} from "./credentials.ts";
export * from "./errors.ts";
export {
  type AwsClientOptions,
  createJsonClient,
  defaultEndpoint,
  type JsonClient,
  type JsonService,
  resolveEndpoint,
} from "./json-client.ts";
export { createKmsClient, type KmsClientOptions, type KmsLikeClient, kmsService } from "./kms.ts";
export { createRdsTokenSigner, type RdsTokenSigner, type RdsTokenSignerOptions } from "./rds-token.ts";
export { classify, type FailureKind, type RetryOptions, RetryStrategy } from "./retry.ts";
export {
  createSecretsManagerClient,
  type GetSecretValueInput,
  type GetSecretValueOutput,
  type PutSecretValueInput,
  type PutSecretValueOutput,
  type SecretsManagerClient,
  type SecretsManagerClientOptions,
  secretsManagerService,
} from "./secrets-manager.ts";
