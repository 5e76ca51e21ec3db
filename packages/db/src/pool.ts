import pg from "pg";
import { type DbError, toDbError } from "./errors.ts";
import { type RdsTarget, rdsTokenProvider } from "./rds-token.ts";

/** Settings shared by both ways of connecting. */
export interface CommonPoolOptions {
  /** Connections at most; default 10. A Lambda usually wants 1 or 2. PGlite needs 1. */
  max?: number;
  /** Give up connecting after this long; default 5000 ms. */
  connectionTimeoutMs?: number;
  /** Server-side statement timeout; default 10000 ms. */
  statementTimeoutMs?: number;
  /** Close idle connections after this long; default 10000 ms. */
  idleTimeoutMs?: number;
  /**
   * Run `DEALLOCATE ALL` on every new connection, before any query of ours. Needed when successive
   * client connections share one server session, as with PGlite, where a reconnect would otherwise
   * meet the named statements of the previous connection. Default false.
   */
  resetSessionOnConnect?: boolean;
  /** Errors of idle connections (already removed from the pool). Default: ignored. */
  onError?: (error: DbError) => void;
}

/** Local and CI: a plain connection string (`postgresql://user:pass@host:port/db?sslmode=…`). */
export interface UrlPoolOptions extends CommonPoolOptions {
  connectionString: string;
  /** TLS settings; by default whatever `sslmode` in the string says. */
  ssl?: pg.PoolConfig["ssl"];
}

/** AWS: RDS with IAM database authentication over verified TLS. */
export interface RdsPoolOptions extends CommonPoolOptions {
  rds: RdsTarget & { database: string };
  /**
   * PEM bundle of the RDS certificate authorities the server certificate must chain to. AWS publishes
   * it as `global-bundle.pem` (see the RDS user guide, "Using SSL/TLS to encrypt a connection"); ship
   * it with the function, or on Lambda's Node.js runtimes read `/var/runtime/ca-cert.pem`, which
   * contains the RDS CAs. Nothing is downloaded at run time.
   */
  ca: string | Buffer;
  /** Token source; defaults to `rdsTokenProvider(rds)`. */
  password?: () => Promise<string>;
}

export type PoolOptions = UrlPoolOptions | RdsPoolOptions;

/**
 * Creates a `pg` pool. With `connectionString`, connects as the string says. With `rds`, every new
 * connection authenticates with a cached RDS IAM token (no static password anywhere) over TLS with
 * `rejectUnauthorized: true` against the given CA bundle and the host name. Idle-connection errors
 * are caught (they would otherwise crash the process) and reported to `onError`.
 */
export function createPool(options: PoolOptions): pg.Pool {
  const common: pg.PoolConfig = {
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: options.idleTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    application_name: "veil",
  };
  const config: pg.PoolConfig =
    "rds" in options
      ? {
          ...common,
          host: options.rds.host,
          port: options.rds.port,
          database: options.rds.database,
          user: options.rds.user,
          password: options.password ?? rdsTokenProvider(options.rds),
          ssl: { rejectUnauthorized: true, ca: options.ca },
        }
      : {
          ...common,
          connectionString: options.connectionString,
          ...(options.ssl !== undefined ? { ssl: options.ssl } : {}),
        };
  const pool = new pg.Pool(config);
  pool.on("error", (error) => options.onError?.(toDbError(error)));
  if (options.resetSessionOnConnect) {
    // Queued on the client before the query that asked for the connection, so it runs first.
    pool.on("connect", (client) => {
      client.query("DEALLOCATE ALL").catch(() => {});
    });
  }
  return pool;
}
