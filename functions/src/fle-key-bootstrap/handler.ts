/**
 * Deploy-time Lambda (infra/fle.ts invokes it once per key generation): generates the FLE key pair in
 * AWS, writes the private key to Secrets Manager, returns the public key. See bootstrap.ts.
 */
import { PutSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type BootstrapResult, bootstrapFleKey } from "./bootstrap.ts";

const client = new SecretsManagerClient({});

/** Lambda entry point; the event is the invocation input. */
export async function handler(event: unknown): Promise<BootstrapResult> {
  return bootstrapFleKey(event, {
    secrets: {
      async putSecretValue(secretId, value, token) {
        await client.send(
          new PutSecretValueCommand({ SecretId: secretId, SecretString: value, ClientRequestToken: token }),
        );
      },
    },
  });
}
