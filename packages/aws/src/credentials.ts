/**
 * Where the AWS credentials come from: the environment (what Lambda sets for the execution role) or
 * static ones (the local stack's stand-ins), or any provider function. Whatever the source, a request
 * is signed only with credentials that are complete and stay valid long enough: anything else rejects
 * with `AwsCredentialsError` before a request is built.
 */
import { AwsCredentialsError } from "./errors.ts";

/** AWS credentials; `expiration` is set for temporary ones. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** What a caller needs of the credentials it asks for. */
export interface CredentialsRequest {
  /**
   * The credentials must stay valid this long (ms), e.g. 15 minutes for an RDS token signed with them.
   * A provider that can refresh should do so; what it returns is checked against this anyway.
   */
  readonly minValidityMs?: number;
}

/** Resolves the credentials to sign the next request with. */
export type CredentialsProvider = (request?: CredentialsRequest) => Promise<AwsCredentials>;

/** Environment variables, `process.env` by default (a parameter so tests need not touch the real one). */
export type Environment = Readonly<Record<string, string | undefined>>;

function usable(c: Partial<AwsCredentials> | undefined): c is AwsCredentials {
  return (
    typeof c?.accessKeyId === "string" &&
    c.accessKeyId !== "" &&
    typeof c.secretAccessKey === "string" &&
    c.secretAccessKey !== ""
  );
}

/**
 * Always the same credentials (e.g. for a local stand-in).
 *
 * @example
 * createKmsClient({ endpoint: "http://127.0.0.1:4599", credentials: staticCredentials({ accessKeyId, secretAccessKey }) });
 */
export function staticCredentials(credentials: AwsCredentials): CredentialsProvider {
  return async () => credentials;
}

/**
 * Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and, when set,
 * `AWS_CREDENTIAL_EXPIRATION` (ISO 8601); undefined when the key id or secret is not set.
 * Throws `AwsCredentialsError` for an expiration that is not a date.
 */
export function readEnvironmentCredentials(env: Environment = process.env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  const expires = env.AWS_CREDENTIAL_EXPIRATION;
  const expiration = expires ? new Date(expires) : undefined;
  if (expiration !== undefined && Number.isNaN(expiration.getTime())) {
    throw new AwsCredentialsError("AWS_CREDENTIAL_EXPIRATION is not a date");
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
    ...(expiration ? { expiration } : {}),
  };
}

/**
 * The credentials of the environment variables, read at each call (cheap, and a rotated value is seen
 * at once). Rejects with `AwsCredentialsError` when they are not set.
 *
 * @example
 * const creds = await environmentCredentials()(); // { accessKeyId, secretAccessKey, sessionToken }
 */
export function environmentCredentials(env: Environment = process.env): CredentialsProvider {
  return async () => {
    const found = readEnvironmentCredentials(env);
    if (!found) throw new AwsCredentialsError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    return found;
  };
}

/** Turns credentials or a provider (or nothing: the environment) into a provider. */
export function toCredentialsProvider(
  credentials: AwsCredentials | CredentialsProvider | undefined,
  env: Environment = process.env,
): CredentialsProvider {
  if (typeof credentials === "function") return credentials;
  if (credentials !== undefined) return staticCredentials(credentials);
  return environmentCredentials(env);
}

/**
 * The credentials to sign one request with, or `AwsCredentialsError` (fail closed): the provider
 * failed, the key id or secret is missing, or they expire within `minValidityMs` of `now` (a
 * signature made with them could outlive them, and a stale key must never sign).
 *
 * @example
 * const creds = await signingCredentials(provider, { minValidityMs: 60_000, now: Date.now(), label: "kms" });
 */
export async function signingCredentials(
  provider: CredentialsProvider,
  options: { readonly minValidityMs: number; readonly now: number; readonly label: string },
): Promise<AwsCredentials> {
  let credentials: AwsCredentials;
  try {
    credentials = await provider({ minValidityMs: options.minValidityMs });
  } catch (err) {
    if (err instanceof AwsCredentialsError) throw err;
    // The provider's own message may quote what it read; only the fact is reported.
    throw new AwsCredentialsError(`${options.label}: the credentials provider failed`);
  }
  if (!usable(credentials)) {
    throw new AwsCredentialsError(`${options.label}: the credentials need an access key id and a secret`);
  }
  const expiresAt = credentials.expiration?.getTime();
  // Written so that an invalid date (NaN) fails too.
  if (expiresAt !== undefined && !(expiresAt - options.now >= options.minValidityMs)) {
    throw new AwsCredentialsError(
      `${options.label}: the credentials expire within ${Math.ceil(options.minValidityMs / 1000)} s and were not refreshed`,
    );
  }
  return credentials;
}
