import { randomBytes } from "node:crypto";
import { createPool, migrations, records } from "@veil/db";
import { passwordLoginRole, startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapDatabase, DbBootstrapError, type SecretReader } from "./bootstrap.ts";

const input = { action: "migrate", migrationsHash: "0123456789abcdef0123456789abcdef" };

/** A Secrets Manager stand-in holding one secret, counting reads. */
function secretsHolding(arn: string, value: string) {
  const reads: string[] = [];
  const secrets: SecretReader = {
    async getSecretString(id) {
      reads.push(id);
      if (id !== arn) throw new Error("ResourceNotFoundException");
      return value;
    },
  };
  return { secrets, reads };
}

// Needs its own server: TLS with a certificate for `localhost`, and roles made to look like RDS's.
describe.runIf(!process.env.DATABASE_URL)("bootstrapDatabase", { timeout: 60_000 }, () => {
  let server: TestPostgres;
  let admin: ReturnType<typeof createPool>;
  const masterPassword = randomBytes(18).toString("base64url");
  const arn = "arn:aws:secretsmanager:eu-central-2:123456789012:secret:rds!db-test-AbCdEf";
  const config = (database: string) => ({
    host: "localhost",
    port: server.port,
    database,
    region: "eu-central-2",
    masterSecretArn: arn,
    appRole: "veil_app",
  });
  const master = () =>
    secretsHolding(arn, JSON.stringify({ username: "veil_master", password: masterPassword }));

  /** A database owned by the master user, as RDS creates `dbName`. */
  async function rdsLikeDatabase(): Promise<string> {
    const name = `veil_${randomBytes(6).toString("hex")}`;
    await admin.query(`CREATE DATABASE ${name} OWNER veil_master`);
    return name;
  }

  beforeAll(async () => {
    server = await startTestPostgres();
    admin = createPool({ connectionString: server.connectionString, max: 1 });
    // Like RDS: the master user may create roles but is no superuser, and must log in with its
    // password over TLS (password_login); rds_iam exists and the master may hand it out.
    await admin.query(
      `CREATE ROLE veil_master LOGIN CREATEROLE PASSWORD '${masterPassword}' IN ROLE ${passwordLoginRole}`,
    );
    await admin.query("CREATE ROLE rds_iam NOLOGIN");
    await admin.query("GRANT rds_iam TO veil_master WITH ADMIN OPTION");
  }, 60_000);
  afterAll(async () => {
    await admin?.end();
    await server?.stop();
  });

  it("migrates as the master user over verified TLS, creates veil_app with rds_iam, and says so", async () => {
    const database = await rdsLikeDatabase();
    const { secrets, reads } = master();
    const result = await bootstrapDatabase(input, config(database), { secrets, ca: server.ca as string });
    expect(result).toEqual({
      migrationsHash: input.migrationsHash,
      applied: migrations.map((m) => m.version),
      current: migrations.at(-1)?.version,
      appRole: { role: "veil_app", status: "created", iam: true },
    });
    expect(reads).toEqual([arn]);
    expect(JSON.stringify(result)).not.toContain(masterPassword);

    const url = new URL(server.connectionString);
    url.pathname = `/${database}`;
    const check = createPool({ connectionString: url.toString(), max: 1 });
    try {
      const { rows } = await check.query(
        `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'`,
      );
      expect(rows).toEqual([{ owner: "veil_master" }]);
      const { rows: role } = await check.query(
        "SELECT pg_has_role('veil_app', 'rds_iam', 'MEMBER') AS iam, has_any_column_privilege('veil_app', 'records', 'INSERT') AS writes",
      );
      expect(role[0]).toEqual({ iam: true, writes: true });
      // The master logged in over TLS: its sessions are refused without it (password_login).
      const plain = createPool({
        connectionString: `postgresql://veil_master:${masterPassword}@127.0.0.1:${server.port}/${database}?sslmode=disable`,
        max: 1,
      });
      await expect(plain.query("SELECT 1")).rejects.toThrow();
      await plain.end();
    } finally {
      await check.end();
    }
    // veil_app can work (trusted locally; on RDS it would present an IAM token).
    url.username = "veil_app";
    const app = createPool({ connectionString: url.toString(), max: 1 });
    try {
      await records.insert(app, {
        id: records.newRecordId(),
        ownerId: "o",
        category: "general",
        ciphertext: Buffer.from([1]),
      });
    } finally {
      await app.end();
    }
  });

  it("is idempotent: a second run applies nothing and finds the role present", async () => {
    const database = await rdsLikeDatabase();
    await bootstrapDatabase(input, config(database), { secrets: master().secrets, ca: server.ca as string });
    const again = await bootstrapDatabase(input, config(database), {
      secrets: master().secrets,
      ca: server.ca as string,
    });
    expect(again).toMatchObject({ applied: [], appRole: { status: "present", iam: true } });
  });

  it("refuses a server whose certificate does not match the CA or the host name", async () => {
    const database = await rdsLikeDatabase();
    const otherCa = (await startTestPostgres()) as TestPostgres;
    try {
      for (const [cfg, ca] of [
        [config(database), otherCa.ca as string],
        [{ ...config(database), host: "127.0.0.1" }, server.ca as string],
      ] as const) {
        const error = await bootstrapDatabase(input, cfg, { secrets: master().secrets, ca }).catch(
          (e: unknown) => e,
        );
        expect(error).toMatchObject({
          name: "DatabaseUnavailableError",
          reason: expect.stringMatching(/^TLS/),
        });
        expect(String(error)).not.toContain(masterPassword);
      }
    } finally {
      await otherCa.stop();
    }
  });

  it("fails, changing nothing, where there is no rds_iam (not an RDS database)", async () => {
    const database = await rdsLikeDatabase();
    await admin.query("ALTER ROLE rds_iam RENAME TO rds_iam_away");
    try {
      await expect(
        bootstrapDatabase(input, config(database), { secrets: master().secrets, ca: server.ca as string }),
      ).rejects.toThrow(/rds_iam/);
    } finally {
      await admin.query("ALTER ROLE rds_iam_away RENAME TO rds_iam");
    }
    const url = new URL(server.connectionString);
    url.pathname = `/${database}`;
    const check = createPool({ connectionString: url.toString(), max: 1 });
    try {
      expect((await check.query("SELECT to_regclass('records') AS t")).rows[0].t).toBeNull();
    } finally {
      await check.end();
    }
  });

  it("never quotes the secret in an error: bad JSON, missing fields, a wrong password", async () => {
    const database = await rdsLikeDatabase();
    const leak = "SECRET-leak-Pa55";
    for (const value of [
      `{"username":"veil_master","password":"${leak}"`,
      JSON.stringify({ password: leak }),
      JSON.stringify({ username: `bad name ${leak}`, password: leak }),
      JSON.stringify({ username: "veil_master", password: leak }),
    ]) {
      const error = await bootstrapDatabase(input, config(database), {
        secrets: secretsHolding(arn, value).secrets,
        ca: server.ca as string,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(`${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`).not.toContain(leak);
    }
  });
});

describe("bootstrapDatabase input", () => {
  it("rejects bad input before reading the secret", async () => {
    const { secrets, reads } = secretsHolding("arn", "{}");
    const config = {
      host: "localhost",
      port: 1,
      database: "veil",
      region: "eu-central-2",
      masterSecretArn: "arn",
      appRole: "veil_app",
    };
    for (const bad of [
      undefined,
      { ...input, action: "drop" },
      { ...input, migrationsHash: "not hex" },
      { action: "migrate" },
    ])
      await expect(bootstrapDatabase(bad, config, { secrets, ca: "" })).rejects.toBeInstanceOf(
        DbBootstrapError,
      );
    expect(reads).toEqual([]);
  });
});
