/**
 * @veil/aws — the few AWS calls the handlers make (KMS, Secrets Manager, RDS IAM tokens, Cognito DeleteUser): a thin typed
 * wrapper over aws4's SigV4 signer and Node's HTTP client, with timeouts, retries, typed errors and
 * fail-closed credentials. See README.md for what it does and what it deliberately does not do.
 */
export {
  type CognitoUserClient,
  type CognitoUserClientOptions,
  cognitoIdpService,
  createCognitoUserClient,
} from "./cognito.ts";
export {
  type AwsCredentials,
  type CredentialsProvider,
  type CredentialsRequest,
  type Environment,
  environmentCredentials,
  readEnvironmentCredentials,
  signingCredentials,
  staticCredentials,
  toCredentialsProvider,
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
