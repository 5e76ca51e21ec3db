/**
 * RDS IAM authentication tokens: a presigned `GET https://<host>:<port>/?Action=connect&DBUser=<user>`
 * (service `rds-db`, valid 15 minutes) without its scheme — the password PostgreSQL and MySQL on RDS
 * accept for an IAM-enabled user. Presigned by aws4's signer (`signQuery`); byte for byte
 * what `@aws-sdk/rds-signer`'s `Signer.getAuthToken()` returns for the same credentials, clock and
 * target (tested against it).
 */
import {
  type AwsCredentials,
  type CredentialsProvider,
  type Environment,
  signingCredentials,
  toCredentialsProvider,
} from "./credentials.ts";
import { AwsConfigError } from "./errors.ts";
import { presignPath } from "./signer.ts";

/** Options of {@link createRdsTokenSigner}. */
export interface RdsTokenSignerOptions {
  /** The database host, e.g. `veil.cluster-abc.eu-central-2.rds.amazonaws.com` (case-insensitive). */
  readonly hostname: string;
  readonly port: number;
  /** The database user the token authenticates. */
  readonly username: string;
  /** Default `AWS_REGION`. */
  readonly region?: string;
  /** Static credentials or a provider. Default: the environment variables. */
  readonly credentials?: AwsCredentials | CredentialsProvider;
  /** Environment variables to read. Default `process.env`. */
  readonly env?: Environment;
  /** Clock, for tests. Default `new Date()`. */
  readonly now?: () => Date;
}

/** Makes RDS IAM auth tokens for one target. */
export interface RdsTokenSigner {
  /** A fresh token (signing is local: no request is made, only credentials are resolved). */
  getAuthToken(): Promise<string>;
}

/** Tokens are valid this long; the credentials that sign one must outlive it. */
const tokenLifetimeSeconds = 900;

/** SigV4 percent-encoding (everything but `A-Z a-z 0-9 - . _ ~`), as rds-signer writes the query. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Creates a token signer for one host, port and user.
 *
 * @example
 * const signer = createRdsTokenSigner({ hostname, port: 5432, username: "veil_app" });
 * const password = await signer.getAuthToken(); // for pg's `password` option
 */
export function createRdsTokenSigner(options: RdsTokenSignerOptions): RdsTokenSigner {
  const env = options.env ?? process.env;
  const credentials = toCredentialsProvider(options.credentials, env);
  const now = options.now ?? (() => new Date());
  const { port, username } = options;
  const hostname = options.hostname?.toLowerCase();
  if (!hostname || !Number.isInteger(port) || port < 1 || port > 65535 || !username) {
    throw new AwsConfigError("rds-db: a token needs a hostname, a port (1-65535) and a username");
  }
  // URL parsing only checks the name: one it would rewrite (`0x1` → `0.0.0.1`) or that is no host at
  // all is refused rather than signed for another host.
  let parsed: URL | undefined;
  try {
    parsed = new URL(`https://${hostname}:${port}/`);
  } catch {}
  if (parsed?.host !== (port === 443 ? hostname : `${hostname}:${port}`)) {
    throw new AwsConfigError("rds-db: the hostname is not a host name");
  }
  // rds-signer signs `host:port` for every port, 443 included.
  const host = `${hostname}:${port}`;
  const path = `/?Action=connect&DBUser=${encode(username)}&X-Amz-Expires=${tokenLifetimeSeconds}`;

  return {
    async getAuthToken() {
      const region = options.region || env.AWS_REGION;
      if (!region) throw new AwsConfigError("rds-db: no region (set the region option or AWS_REGION)");
      const date = now();
      const creds = await signingCredentials(credentials, {
        minValidityMs: tokenLifetimeSeconds * 1000,
        now: date.getTime(),
        label: "rds-db",
      });
      const signed = presignPath({ method: "GET", host, path, service: "rds-db", region, date }, creds);
      // The signer writes the query in its own order; the token carries it as rds-signer does: names
      // sorted, SigV4-encoded.
      const query = [...new URLSearchParams(signed.slice(signed.indexOf("?") + 1))]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, value]) => `${encode(name)}=${encode(value)}`)
        .join("&");
      return `${host}/?${query}`;
    },
  };
}
