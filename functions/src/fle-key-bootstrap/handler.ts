/**
 * Deploy-time Lambda (infra/fle.ts invokes it once per key generation): generates the FLE key pair in
 * AWS, writes the private key to Secrets Manager, returns the public key. See bootstrap.ts.
 */
import { createSecretsManagerClient } from "@veil/aws";
import { type BootstrapResult, bootstrapFleKey } from "./bootstrap.ts";

const client = createSecretsManagerClient();

/** Lambda entry point; the event is the invocation input. */
export async function handler(event: unknown): Promise<BootstrapResult> {
  return bootstrapFleKey(event, {
    secrets: {
      async putSecretValue(secretId, value, token) {
        await client.putSecretValue({ SecretId: secretId, SecretString: value, ClientRequestToken: token });
      },
    },
  });
}
