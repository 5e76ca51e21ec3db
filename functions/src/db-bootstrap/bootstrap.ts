/**
 * Brings the RDS database up to date at deploy time, inside AWS: logs in as the master user (its
 * password comes from the RDS-managed Secrets Manager secret and is never returned, logged or kept),
 * over TLS verified against the RDS CA bundle and the host name, then runs the migrations and the
 * app role model (`veil_app`: owns nothing, holds the declared privileges, logs in with IAM tokens
 * through `rds_iam`) in one transaction. Idempotent: every deploy may run it again.
 *
 * Where to connect comes from the function's configuration, never from the invocation: an input
 * naming another host could send the master password to whoever holds a certificate for that name.
 */
import { createPool, type MigrateResult, migrate, toDbError } from "@veil/db";

/** The database and its master secret, from the function's linked resources. */
export interface DbBootstrapConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly region: string;
  /** ARN of the RDS-managed master user secret (JSON `{ username, password }`). */
  readonly masterSecretArn: string;
  /** The app role's name (`veil_app`). */
  readonly appRole: string;
}

/** The invocation payload (infra/db-bootstrap.ts). The hash only makes Pulumi run it again. */
export interface DbBootstrapInput {
  readonly action: "migrate";
  /** Hash of the migrations and the role declaration; echoed back. */
  readonly migrationsHash: string;
}

/** What the deploy learns (Pulumi keeps it in state): no credential, no data. */
export interface DbBootstrapResult {
  readonly migrationsHash: string;
  /** Versions applied by this run (empty when the schema was up to date). */
  readonly applied: readonly number[];
  readonly current: number;
  readonly appRole:
    | { readonly role: string; readonly status: "created" | "present"; readonly iam: boolean }
    | { readonly role: string; readonly status: "skipped: the database is newer than this code" };
}

/** Reads a secret's current value. */
export interface SecretReader {
  getSecretString(secretId: string): Promise<string>;
}

export interface DbBootstrapDeps {
  readonly secrets: SecretReader;
  /** PEM bundle of the CAs the server certificate must chain to (the RDS CAs). */
  readonly ca: string | Buffer;
}

/** Invalid input or configuration; names the field, never a value. */
export class DbBootstrapError extends Error {
  override readonly name = "DbBootstrapError";
}

function parseInput(raw: unknown): DbBootstrapInput {
  const v = (raw ?? {}) as Record<string, unknown>;
  if (v.action !== "migrate") throw new DbBootstrapError("action must be migrate");
  if (typeof v.migrationsHash !== "string" || !/^[0-9a-f]{16,128}$/.test(v.migrationsHash))
    throw new DbBootstrapError("migrationsHash must be 16-128 hex digits");
  return { action: "migrate", migrationsHash: v.migrationsHash };
}

/** The master credentials out of the secret's JSON; errors never quote the secret. */
function parseMaster(secret: string): { username: string; password: string } {
  let v: unknown;
  try {
    v = JSON.parse(secret);
  } catch {
    // JSON.parse's message quotes the text it choked on: not passed on.
    throw new DbBootstrapError("master secret is not JSON");
  }
  const { username, password } = (v ?? {}) as Record<string, unknown>;
  if (typeof username !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(username))
    throw new DbBootstrapError("master secret has no valid username");
  if (typeof password !== "string" || password.length === 0)
    throw new DbBootstrapError("master secret has no password");
  return { username, password };
}

function summarize(input: DbBootstrapInput, role: string, r: MigrateResult): DbBootstrapResult {
  const appRole = r.appRole;
  return {
    migrationsHash: input.migrationsHash,
    applied: r.applied,
    current: r.current,
    appRole: appRole
      ? { role: appRole.role, status: appRole.created ? "created" : "present", iam: appRole.iam }
      : { role, status: "skipped: the database is newer than this code" },
  };
}

/**
 * Validates the input, reads the master credentials, connects (verified TLS) and runs `migrate` with
 * the app role (`iam: true`). Fails, changing nothing, when `rds_iam` is missing: the functions could
 * not log in.
 */
export async function bootstrapDatabase(
  raw: unknown,
  config: DbBootstrapConfig,
  deps: DbBootstrapDeps,
): Promise<DbBootstrapResult> {
  const input = parseInput(raw);
  const master = parseMaster(await deps.secrets.getSecretString(config.masterSecretArn));
  const pool = createPool({
    rds: {
      host: config.host,
      port: config.port,
      database: config.database,
      user: master.username,
      region: config.region,
    },
    ca: deps.ca,
    password: async () => master.password,
    max: 1,
    connectionTimeoutMs: 10_000,
    // Migrations may rewrite tables: far more than a request's 10 s, within the function's timeout.
    statementTimeoutMs: 240_000,
  });
  try {
    // Checked first, so a database that is not RDS is left untouched.
    const { rows } = await pool
      .query("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'")
      .catch((error: unknown) => Promise.reject(toDbError(error)));
    if (rows.length === 0)
      throw new DbBootstrapError("no rds_iam role in the database: the app role could not use IAM tokens");
    const result = await migrate(pool, undefined, { appRole: { role: config.appRole, iam: true } });
    return summarize(input, config.appRole, result);
  } finally {
    await pool.end();
  }
}
