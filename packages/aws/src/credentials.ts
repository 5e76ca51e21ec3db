/**
 * Where the AWS credentials come from: static ones, the environment (what Lambda sets for the
 * execution role), or the container credentials endpoint (what Lambda SnapStart, ECS and EKS Pod
 * Identity use), cached and refreshed before they expire. Without credentials every call fails with
 * `AwsCredentialsError` before anything is sent: no request ever leaves unsigned.
 */
import { readFile } from "node:fs/promises";
import { AwsCredentialsError } from "./errors.ts";
import { HttpFailure, send } from "./http.ts";

/** AWS credentials; `expiration` is set for temporary ones that need refreshing. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** What a caller needs of the credentials it asks for. */
export interface CredentialsRequest {
  /**
   * The credentials must stay valid this long (ms), e.g. 15 minutes for an RDS token signed with them;
   * temporary ones closer to expiry are refreshed first (if the refresh fails, they are returned).
   */
  readonly minValidityMs?: number;
}

/** Resolves the credentials to sign the next request with. Rejects with `AwsCredentialsError`. */
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

/** Always the same credentials (e.g. for a local stand-in). Rejects if they are empty. */
export function staticCredentials(credentials: AwsCredentials): CredentialsProvider {
  const valid = usable(credentials);
  return async () => {
    if (!valid) throw new AwsCredentialsError("static credentials need an access key id and a secret");
    return credentials;
  };
}

/** Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`; undefined when not set. */
export function readEnvironmentCredentials(env: Environment = process.env): AwsCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env.AWS_SESSION_TOKEN;
  return sessionToken ? { accessKeyId, secretAccessKey, sessionToken } : { accessKeyId, secretAccessKey };
}

/**
 * The credentials of the environment variables, read at each call (cheap, and a rotated value is seen
 * at once). Rejects with `AwsCredentialsError` when they are not set.
 */
export function environmentCredentials(env: Environment = process.env): CredentialsProvider {
  return async () => {
    const found = readEnvironmentCredentials(env);
    if (!found) throw new AwsCredentialsError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
    return found;
  };
}

/** Options of {@link containerCredentials}. */
export interface ContainerCredentialsOptions {
  /** Default `process.env`. */
  readonly env?: Environment;
  /** Deadline of one fetch, in ms. Default 1000 (the SDK's). */
  readonly timeoutMs?: number;
  /** Fetch attempts before giving up. Default 4 (the SDK's: one try and three retries). */
  readonly maxAttempts?: number;
  /** Wait between attempts, in ms. Default 1000 (the SDK's). */
  readonly retryDelayMs?: number;
  /** Fetch new credentials this long before they expire. Default 5 minutes (the SDK's). */
  readonly refreshMarginMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const ecsHost = "169.254.170.2";
const allowedHttpHosts = new Set([ecsHost, "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]"]);

/** The container credentials URL from the environment, checked as the SDK checks it; undefined if unset. */
export function containerCredentialsUrl(env: Environment = process.env): URL | undefined {
  const relative = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!relative && !full) return undefined;
  let url: URL;
  try {
    // The relative URI wins when both are set, as in the SDK.
    url = new URL(relative ? `http://${ecsHost}${relative}` : (full as string));
  } catch {
    throw new AwsCredentialsError("the container credentials URI is not a URL");
  }
  // Plain HTTP only to the link-local container hosts or loopback: the answer is a secret.
  const loopbackV4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(url.hostname);
  const loopback = loopbackV4?.slice(1).every((n) => Number(n) <= 255) ?? false;
  if (
    url.protocol !== "https:" &&
    !(url.protocol === "http:" && (allowedHttpHosts.has(url.hostname) || loopback))
  ) {
    throw new AwsCredentialsError(
      "the container credentials URI must be HTTPS, loopback, or a container host (169.254.170.2, 169.254.170.23, fd00:ec2::23)",
    );
  }
  return url;
}

async function authorizationToken(env: Environment): Promise<string | undefined> {
  const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
  let token: string | undefined;
  if (file) {
    try {
      // Re-read at each fetch: EKS rotates the file.
      token = (await readFile(file, "utf8")).trim();
    } catch {
      throw new AwsCredentialsError("the container authorization token file cannot be read");
    }
  } else token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (token !== undefined && /[\r\n]/.test(token)) {
    throw new AwsCredentialsError("the container authorization token contains a line break");
  }
  return token || undefined;
}

async function fetchContainerCredentials(
  url: URL,
  env: Environment,
  timeoutMs: number,
): Promise<AwsCredentials> {
  const token = await authorizationToken(env);
  let res: Awaited<ReturnType<typeof send>>;
  try {
    res = await send(
      { method: "GET", url, headers: { host: url.host, ...(token ? { authorization: token } : {}) } },
      { timeoutMs, maxResponseBytes: 64 * 1024 },
    );
  } catch (err) {
    const why = err instanceof HttpFailure ? (err.kind === "timeout" ? "timed out" : err.code) : "failed";
    throw new AwsCredentialsError(`the container credentials endpoint could not be reached (${why})`);
  }
  if (res.statusCode !== 200) {
    throw new AwsCredentialsError(`the container credentials endpoint answered HTTP ${res.statusCode}`);
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(res.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new AwsCredentialsError("the container credentials endpoint answered something that is not JSON");
  }
  const { AccessKeyId, SecretAccessKey, Token, Expiration } = parsed ?? {};
  const expiration = typeof Expiration === "string" ? new Date(Expiration) : undefined;
  if (
    typeof AccessKeyId !== "string" ||
    typeof SecretAccessKey !== "string" ||
    typeof Token !== "string" ||
    expiration === undefined ||
    Number.isNaN(expiration.getTime()) ||
    AccessKeyId === "" ||
    SecretAccessKey === ""
  ) {
    throw new AwsCredentialsError(
      "the container credentials endpoint answered without AccessKeyId, SecretAccessKey, Token and Expiration",
    );
  }
  return { accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: Token, expiration };
}

/**
 * Credentials from the container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI` or
 * `_RELATIVE_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` or `_TOKEN` sent as `Authorization`).
 * Cached until `refreshMarginMs` before their `Expiration`; concurrent callers share one fetch. A failed
 * refresh falls back to the cached credentials while they are still valid, and fails once they are not.
 */
export function containerCredentials(options: ContainerCredentialsOptions = {}): CredentialsProvider {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 4);
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let cached: AwsCredentials | undefined;
  let pending: Promise<AwsCredentials> | undefined;

  const fetchWithRetries = async (): Promise<AwsCredentials> => {
    const url = containerCredentialsUrl(env);
    if (!url) throw new AwsCredentialsError("no container credentials URI is set");
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchContainerCredentials(url, env, timeoutMs);
      } catch (err) {
        if (attempt >= maxAttempts) throw err;
        await new Promise((r) => setTimeout(r, retryDelayMs));
      }
    }
  };

  return async (request) => {
    const held = cached;
    const expiresAt = held?.expiration?.getTime() ?? 0;
    if (held && now() < expiresAt - Math.max(margin, request?.minValidityMs ?? 0)) return held;
    pending ??= fetchWithRetries()
      .then((fresh) => {
        cached = fresh;
        return fresh;
      })
      .finally(() => {
        pending = undefined;
      });
    try {
      return await pending;
    } catch (err) {
      if (held && now() < expiresAt) return held;
      throw err;
    }
  };
}

/** Options of {@link defaultCredentials}. */
export interface DefaultCredentialsOptions extends ContainerCredentialsOptions {}

/**
 * The credentials chain of a Lambda function: the environment variables when set, else the container
 * credentials endpoint when its URI is set, else `AwsCredentialsError`. The choice is made at each call,
 * so credentials set after the client was built are found.
 */
export function defaultCredentials(options: DefaultCredentialsOptions = {}): CredentialsProvider {
  const env = options.env ?? process.env;
  let container: CredentialsProvider | undefined;
  return async (request) => {
    const fromEnv = readEnvironmentCredentials(env);
    if (fromEnv) return fromEnv;
    if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
      container ??= containerCredentials(options);
      return container(request);
    }
    throw new AwsCredentialsError(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a container credentials URI",
    );
  };
}

/** Turns credentials or a provider (or nothing: the default chain) into a provider. */
export function toCredentialsProvider(
  credentials: AwsCredentials | CredentialsProvider | undefined,
  env?: Environment,
): CredentialsProvider {
  if (typeof credentials === "function") return credentials;
  if (credentials !== undefined) return staticCredentials(credentials);
  return defaultCredentials(env ? { env } : {});
}
