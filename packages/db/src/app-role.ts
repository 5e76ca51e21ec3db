/**
 * The role model as code. The application connects as its own login role (`veil_app`), which owns
 * nothing and holds exactly the privileges of `app-privileges.ts`; the tables stay owned by the
 * migrating (master) user. So the app can neither alter nor drop a table, nor switch off the audit
 * trail's append-only triggers (that takes ownership), nor UPDATE, DELETE or TRUNCATE the trail.
 */
import { escapeIdentifier, escapeLiteral, type Pool, type PoolClient } from "pg";
import { appSequenceUsage, appTablePrivileges, type TablePrivileges } from "./app-privileges.ts";
import { lockSchema } from "./schema-lock.ts";
import { withTransaction } from "./transaction.ts";

/** The role the functions log in as (infra/database.ts grants `rds-db:connect` for it). */
export const defaultAppRole = "veil_app";

/** Options of `grantAppRole`. */
export interface AppRoleOptions {
  /** Role name; default `veil_app`. Lower-case letters, digits and `_`. */
  readonly role?: string;
  /**
   * RDS IAM authentication: grant `rds_iam` to the role (when that role exists, i.e. on RDS), so it
   * logs in with IAM tokens only.
   */
  readonly iam: boolean;
  /** Sets this password (local PostgreSQL without IAM). Never logged or returned. */
  readonly password?: string;
}

/** What `grantAppRole` found and did. */
export interface AppRoleResult {
  readonly role: string;
  /** True when the role did not exist before. */
  readonly created: boolean;
  /** True when the role is a member of `rds_iam` (logs in with IAM tokens). */
  readonly iam: boolean;
  /** Tables the role was granted privileges on. */
  readonly tables: readonly string[];
}

/** The database is in a state the role model does not accept (names roles and tables, no values). */
export class AppRoleError extends Error {
  override readonly name = "AppRoleError";
}

const roleName = /^[a-z_][a-z0-9_]{0,62}$/;

/** Attributes the role must not have, with the clause that removes each. */
const forbiddenAttributes = [
  ["rolsuper", "NOSUPERUSER"],
  ["rolcreatedb", "NOCREATEDB"],
  ["rolcreaterole", "NOCREATEROLE"],
  ["rolbypassrls", "NOBYPASSRLS"],
  ["rolreplication", "NOREPLICATION"],
] as const;

type RoleRow = Record<(typeof forbiddenAttributes)[number][0] | "rolcanlogin", boolean>;

async function readRole(client: PoolClient, role: string): Promise<RoleRow | undefined> {
  const { rows } = await client.query<RoleRow>({
    text: "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication, rolcanlogin FROM pg_roles WHERE rolname = $1",
    values: [role],
  });
  return rows[0];
}

/** Creates the role, or strips attributes it must not have. Returns whether it was created. */
async function ensureRole(client: PoolClient, role: string): Promise<boolean> {
  const id = escapeIdentifier(role);
  const existing = await readRole(client, role);
  if (!existing) {
    // Another database of the same cluster may create it at the same moment (roles are cluster-wide).
    await client.query("SAVEPOINT veil_create_role");
    try {
      await client.query(
        `CREATE ROLE ${id} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION INHERIT`,
      );
      await client.query("RELEASE SAVEPOINT veil_create_role");
      return true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== "42710" && code !== "23505") throw error;
      await client.query("ROLLBACK TO SAVEPOINT veil_create_role");
      return ensureRole(client, role);
    }
  }
  const fixes: string[] = forbiddenAttributes.filter(([attr]) => existing[attr]).map(([, c]) => c);
  if (!existing.rolcanlogin) fixes.push("LOGIN");
  // Removing SUPERUSER, BYPASSRLS or REPLICATION needs a superuser (which RDS has not): then this
  // fails, and so does the deploy — rather than let the functions run with such a role.
  if (fixes.length > 0) await client.query(`ALTER ROLE ${id} ${fixes.join(" ")}`);
  return false;
}

/** GRANT statements of one table's declaration. */
function tableGrants(table: string, p: TablePrivileges, role: string): string[] {
  const t = `public.${escapeIdentifier(table)}`;
  const r = escapeIdentifier(role);
  const cols = (c: readonly string[]) => c.map(escapeIdentifier).join(", ");
  const out: string[] = [];
  if (p.select) out.push(`GRANT SELECT ON ${t} TO ${r}`);
  if (p.insert?.length) out.push(`GRANT INSERT (${cols(p.insert)}) ON ${t} TO ${r}`);
  if (p.update?.length) out.push(`GRANT UPDATE (${cols(p.update)}) ON ${t} TO ${r}`);
  if (p.delete) out.push(`GRANT DELETE ON ${t} TO ${r}`);
  return out;
}

/** Fails when the role owns anything here or is a member of a role other than `rds_iam`. */
async function assertUnprivileged(client: PoolClient, role: string): Promise<void> {
  const { rows: memberships } = await client.query<{ rolname: string }>({
    text: `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
           JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1 AND g.rolname <> 'rds_iam'
           ORDER BY 1`,
    values: [role],
  });
  if (memberships.length > 0)
    throw new AppRoleError(
      `role ${role} is a member of ${memberships.map((m) => m.rolname).join(", ")}: revoke that first`,
    );
  const { rows: owned } = await client.query<{ n: number }>({
    text: `SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
                + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid)
                + (SELECT count(*) FROM pg_proc WHERE proowner = r.oid)
                + (SELECT count(*) FROM pg_type WHERE typowner = r.oid)
                + (SELECT count(*) FROM pg_database WHERE datdba = r.oid AND datname = current_database())
                AS n
           FROM pg_roles r WHERE r.rolname = $1`,
    values: [role],
  });
  if (Number(owned[0]?.n ?? 0) > 0)
    throw new AppRoleError(`role ${role} owns objects in this database: reassign them to the schema owner`);
}

/**
 * The role model inside an open transaction (`migrate` calls it after the migrations, in the same
 * transaction). See `grantAppRole`.
 */
export async function applyAppRole(client: PoolClient, options: AppRoleOptions): Promise<AppRoleResult> {
  const role = options.role ?? defaultAppRole;
  if (!roleName.test(role)) throw new AppRoleError("role name must be lower-case letters, digits or _");
  const r = escapeIdentifier(role);
  const created = await ensureRole(client, role);
  if (options.password !== undefined)
    await client.query(`ALTER ROLE ${r} PASSWORD ${escapeLiteral(options.password)}`);

  // From scratch on every run: whatever was granted before (by hand, or by an older declaration) goes,
  // so the database ends up holding exactly the declaration. One transaction: no gap is ever visible.
  await client.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  await client.query(`REVOKE ALL ON SCHEMA public FROM ${r}`);
  await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, ${r}`);
  await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, ${r}`);
  await client.query(`GRANT USAGE ON SCHEMA public TO ${r}`);

  const declared = appTablePrivileges as Record<string, TablePrivileges>;
  const { rows: present } = await client.query<{ name: string }>({
    text: "SELECT relname AS name FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY($1)",
    values: [[...Object.keys(declared), ...appSequenceUsage]],
  });
  const exists = new Set(present.map((p) => p.name));
  for (const name of [...Object.keys(declared), ...appSequenceUsage])
    if (!exists.has(name))
      throw new AppRoleError(`${name} is declared for the app role but does not exist: migrate first`);
  for (const [table, privileges] of Object.entries(declared))
    for (const statement of tableGrants(table, privileges, role)) await client.query(statement);
  for (const sequence of appSequenceUsage)
    await client.query(`GRANT USAGE ON SEQUENCE public.${escapeIdentifier(sequence)} TO ${r}`);

  let iam = false;
  if (options.iam) {
    const { rows } = await client.query<{ present: boolean; member: boolean }>({
      text: `SELECT true AS present, pg_has_role($1, oid, 'MEMBER') AS member FROM pg_roles WHERE rolname = 'rds_iam'`,
      values: [role],
    });
    if (rows[0]) {
      if (!rows[0].member) await client.query(`GRANT rds_iam TO ${r}`);
      iam = true;
    }
  }
  await assertUnprivileged(client, role);
  return { role, created, iam, tables: Object.keys(declared) };
}

/**
 * Makes the application role match the declaration, idempotently; run it after `migrate` on every
 * deploy (or pass `appRole` to `migrate`, which does both in one transaction). Creates the role if
 * missing (LOGIN, no SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS or REPLICATION) and strips those
 * attributes from an existing one; grants `rds_iam` when `iam` and that role exists; revokes every
 * privilege on the tables and sequences of `public` (from the role and from PUBLIC) and CREATE on the
 * schema from PUBLIC, then grants exactly `appTablePrivileges` and USAGE on `appSequenceUsage`.
 * Throws `AppRoleError` when the role owns objects here or belongs to another role.
 */
export async function grantAppRole(pool: Pool, options: AppRoleOptions): Promise<AppRoleResult> {
  return withTransaction(pool, async (client) => {
    await lockSchema(client);
    return applyAppRole(client, options);
  });
}
