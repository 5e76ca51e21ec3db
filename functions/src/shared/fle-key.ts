import { createSecretsManagerClient, type SecretsManagerClient } from "@veil/aws";

/** The FLE private key(s) a handler decrypts with: the current one and, during a rotation, the previous. */
export interface FleKeys {
  readonly providerId: string;
  readonly current: { readonly keyName: string; readonly privateKeyPem: string };
  readonly previous?: { readonly keyName: string; readonly privateKeyPem: string };
}

interface SecretShape {
  keyName?: unknown;
  privateKeyPem?: unknown;
}

function parse(secret: string | undefined): { keyName: string; privateKeyPem: string } | undefined {
  if (!secret) return undefined;
  const v = JSON.parse(secret) as SecretShape;
  if (typeof v.keyName !== "string" || typeof v.privateKeyPem !== "string") return undefined;
  return { keyName: v.keyName, privateKeyPem: v.privateKeyPem };
}

/**
 * Loads the FLE private key from Secrets Manager (AWSCURRENT, and AWSPREVIOUS while a rotation drains).
 * The secret is encrypted with the KMS key and readable only by the API role. Both reads name their
 * version stage: the readers' policy allows `GetSecretValue` only for a named AWSCURRENT or AWSPREVIOUS,
 * and a request without one carries no `secretsmanager:VersionStage` to match.
 */
export async function loadFleKeys(
  secretArn: string,
  providerId: string,
  client: Pick<SecretsManagerClient, "getSecretValue"> = createSecretsManagerClient(),
): Promise<FleKeys> {
  const current = parse(
    (await client.getSecretValue({ SecretId: secretArn, VersionStage: "AWSCURRENT" })).SecretString,
  );
  if (!current) throw new Error("FLE key secret is malformed");
  const previous = await client
    .getSecretValue({ SecretId: secretArn, VersionStage: "AWSPREVIOUS" })
    .then((r) => parse(r.SecretString))
    .catch(() => undefined);
  return previous && previous.keyName !== current.keyName
    ? { providerId, current, previous }
    : { providerId, current };
}
