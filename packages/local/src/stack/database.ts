/**
 * The local stack's database, with the role model of AWS where the database allows it: on a real
 * PostgreSQL (`DATABASE_URL`, Debian's server in the tests) the admin user migrates and applies the
 * app role, and the functions connect as `veil_app` — owning nothing, holding only the declared
 * privileges, with a password instead of IAM tokens. PGlite is one database session with one user:
 * there the functions keep the admin connection (see packages/db/README.md).
 */
import { createHmac } from "node:crypto";
import { createPool, defaultAppRole, migrate } from "@veil/db";

/** How the functions of the local stack connect. */
export interface LocalDatabase {
  /** Connection string for the functions: `veil_app` on PostgreSQL, the admin on PGlite. */
  readonly functionUrl: string;
  /** The role the functions log in as. */
  readonly functionRole: string;
}

/**
 * The app role's local password, derived from the admin credentials and server: the same for every
 * stack on one server (roles are server-wide, so stacks sharing a server must agree), as secret as
 * the admin password, and stored nowhere.
 */
export function localAppPassword(adminUrl: string): string {
  const u = new URL(adminUrl);
  return createHmac("sha256", `${u.username}:${u.password}@${u.hostname}:${u.port}`)
    .update("veil local app role")
    .digest("base64url");
}

/**
 * Migrates as the admin of `adminUrl` and, unless `singleSession` (PGlite), applies the app role with
 * a password login; returns what the functions connect with. The admin must be allowed to create
 * roles.
 */
export async function prepareLocalDatabase(
  adminUrl: string,
  options: { singleSession: boolean },
): Promise<LocalDatabase> {
  const admin = createPool({ connectionString: adminUrl, max: 1 });
  try {
    if (options.singleSession) {
      await migrate(admin);
      return { functionUrl: adminUrl, functionRole: decodeURIComponent(new URL(adminUrl).username) };
    }
    const password = localAppPassword(adminUrl);
    await migrate(admin, undefined, { appRole: { role: defaultAppRole, iam: false, password } });
    const url = new URL(adminUrl);
    url.username = defaultAppRole;
    url.password = password;
    return { functionUrl: url.toString(), functionRole: defaultAppRole };
  } finally {
    await admin.end();
  }
}
