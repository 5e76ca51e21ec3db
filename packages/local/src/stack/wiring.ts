/**
 * What every local function is given, as AWS gives it: the function role's credentials and the
 * endpoints of the stand-ins in its environment, and the local value of each link (`SST_RESOURCE_*`).
 */
import type { LinkName } from "@veil/functions/manifest";
import type { LocalCognito } from "../cognito/index.ts";
import type { LocalKms } from "../kms/index.ts";
import type { LocalSecrets } from "../secrets/index.ts";
import type { LocalIdentities } from "./identities.ts";
import type { StackDatabase } from "./services.ts";

/** The functions' environment and links. */
export interface FunctionWiring {
  readonly env: Record<string, string>;
  readonly links: Partial<Record<LinkName, unknown>>;
}

/**
 * Builds the environment and links of the local functions.
 *
 * @example
 * const wiring = functionWiring({ region, ids, kms, secrets: s, cognito, database, recordsKeyArn });
 */
export function functionWiring(a: {
  region: string;
  ids: LocalIdentities;
  kms: Pick<LocalKms, "endpoint">;
  secrets: { secrets: Pick<LocalSecrets, "endpoint">; fleSecretArn: string; idempotencySecretArn: string };
  cognito: Pick<LocalCognito, "jwks" | "userPoolId" | "clientId" | "endpoint">;
  database: StackDatabase;
  recordsKeyArn: string;
}): FunctionWiring {
  const { ids, database } = a;
  const env = {
    AWS_REGION: a.region,
    AWS_ACCESS_KEY_ID: ids.functionRole.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ids.functionRole.secretAccessKey,
    AWS_ENDPOINT_URL_KMS: a.kms.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: a.secrets.secrets.endpoint,
    VEIL_COGNITO_JWKS: JSON.stringify(a.cognito.jwks),
    // The account function's DeleteUser (the user's own token; no SigV4).
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: a.cognito.endpoint,
  };
  const links = {
    RecordsKey: { arn: a.recordsKeyArn },
    Database: {
      host: "127.0.0.1",
      port: Number(new URL(database.url).port) || 5432,
      username: database.functionRole,
      database: "postgres",
      url: database.functionUrl,
      singleSession: database.singleSession,
    },
    UserPool: { id: a.cognito.userPoolId },
    UserPoolClient: { id: a.cognito.clientId },
    FleKey: { secretArn: a.secrets.fleSecretArn, providerId: ids.fle.providerId },
    IdempotencySecret: { secretArn: a.secrets.idempotencySecretArn },
    FlePublicKey: { pem: ids.fle.publicKeyPem, keyName: ids.fle.keyName, providerId: ids.fle.providerId },
  };
  return { env, links };
}
