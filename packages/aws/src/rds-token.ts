/**
 * RDS IAM authentication tokens: a presigned `GET https://<host>:<port>/?Action=connect&DBUser=<user>`
 * (service `rds-db`, valid 15 minutes) without its scheme — the password PostgreSQL and MySQL on RDS
 * accept for an IAM-enabled user. Byte for byte what `@aws-sdk/rds-signer`'s `Signer.getAuthToken()`
 * returns for the same credentials, clock and target (tested against it).
 */

import {
  type AwsCredentials,
  type CredentialsProvider,
  type Environment,
  toCredentialsProvider,
} from "./credentials.ts";
import { AwsConfigError, AwsCredentialsError } from "./errors.ts";
import { formatQuery, presignRequest } from "./sigv4.ts";

/** Options of {@link createRdsTokenSigner}. */
export interface RdsTokenSignerOptions {
  readonly hostname: string;
  readonly port: number;
  /** The database user the token authenticates. */
  readonly username: string;
  /** Default `AWS_REGION`. */
  readonly region?: string;
  /** Static credentials or a provider. Default: environment, then container credentials. */
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

/** Tokens are valid this long; credentials must outlive them. */
const tokenLifetimeSeconds = 900;

/** Creates a token signer for one host, port and user. */
export function createRdsTokenSigner(options: RdsTokenSignerOptions): RdsTokenSigner {
  const env = options.env ?? process.env;
  const credentials = toCredentialsProvider(options.credentials, env);
  const now = options.now ?? (() => new Date());
  const { hostname, port, username } = options;
  if (!hostname || !Number.isInteger(port) || port < 1 || port > 65535 || !username) {
    throw new AwsConfigError("rds-db: a token needs a hostname, a port (1-65535) and a username");
  }
  return {
    async getAuthToken() {
      const region = options.region || env.AWS_REGION;
      if (!region) throw new AwsConfigError("rds-db: no region (set the region option or AWS_REGION)");
      let creds: AwsCredentials;
      try {
        creds = await credentials({ minValidityMs: tokenLifetimeSeconds * 1000 });
      } catch (err) {
        if (err instanceof AwsCredentialsError) throw err;
        throw new AwsCredentialsError("rds-db: the credentials provider failed");
      }
      const presigned = presignRequest(
        {
          method: "GET",
          path: "/",
          query: { Action: "connect", DBUser: username },
          headers: { host: `${hostname}:${port}` },
        },
        { credentials: creds, region, service: "rds-db", date: now(), expiresIn: tokenLifetimeSeconds },
      );
      return `${hostname}:${port}/?${formatQuery(presigned.query)}`;
    },
  };
}
