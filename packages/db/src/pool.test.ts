import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Signer } from "@aws-sdk/rds-signer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "./errors.ts";
import { createPool } from "./pool.ts";
import { rdsTokenProvider, tokenExpiry } from "./rds-token.ts";
import { passwordLoginRole } from "./testing/postgres.ts";
import { openTestDb, type TestDb } from "./testing/support.ts";
import { withTransaction } from "./transaction.ts";

const target = { host: "db.example.internal", port: 5432, user: "veil_app", region: "eu-central-2" };
const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
};

/** A real SigV4 presigning signer with fixed credentials, counting how often it signs. */
function countingSigner(clock: { now: number }) {
  const signer = new Signer({
    hostname: target.host,
    port: target.port,
    username: target.user,
    region: target.region,
    credentials,
  });
  const counter = {
    calls: 0,
    async getAuthToken() {
      counter.calls++;
      // The SDK reads the wall clock; our provider reads `clock`, so date-stamp the token ourselves.
      const token = await signer.getAuthToken();
      const stamp = new Date(clock.now).toISOString().replace(/[-:]|\.\d{3}/g, "");
      return token.replace(/X-Amz-Date=\d{8}T\d{6}Z/, `X-Amz-Date=${stamp}`);
    },
  };
  return counter;
}

describe("rdsTokenProvider", () => {
  it("signs a real RDS IAM token for the target", async () => {
    const clock = { now: Date.now() };
    const token = await rdsTokenProvider({
      ...target,
      signer: countingSigner(clock),
      now: () => clock.now,
    })();
    expect(token.startsWith(`${target.host}:${target.port}/?`)).toBe(true);
    const params = new URLSearchParams(token.slice(token.indexOf("?") + 1));
    expect(params.get("Action")).toBe("connect");
    expect(params.get("DBUser")).toBe(target.user);
    expect(params.get("X-Amz-Expires")).toBe("900");
    expect(params.get("X-Amz-Credential")).toContain(`/${target.region}/rds-db/aws4_request`);
    expect(tokenExpiry(token)).toBe(Math.floor(clock.now / 1000) * 1000 + 900_000);
  });

  it("reuses the token until shortly before it expires", async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const signer = countingSigner(clock);
    const password = rdsTokenProvider({ ...target, signer, now: () => clock.now, refreshMarginMs: 180_000 });
    const [a, b] = await Promise.all([password(), password()]);
    expect(signer.calls).toBe(1);
    expect(b).toBe(a);
    clock.now += 11 * 60_000; // 4 minutes left: still good
    expect(await password()).toBe(a);
    expect(signer.calls).toBe(1);
    clock.now += 90_000; // 2.5 minutes left: inside the margin
    const c = await password();
    expect(signer.calls).toBe(2);
    expect(c).not.toBe(a);
  });

  it("fails closed and retries on the next call when signing fails", async () => {
    let fail = true;
    const password = rdsTokenProvider({
      ...target,
      signer: {
        getAuthToken: async () => {
          if (fail) throw new Error("no credentials: SECRET");
          return "host:5432/?X-Amz-Date=20300101T000000Z&X-Amz-Expires=900";
        },
      },
    });
    const error = await password().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(String(error)).not.toContain("SECRET");
    fail = false;
    expect(await password()).toContain("X-Amz-Expires=900");
  });
});

describe("createPool", { timeout: 60_000 }, () => {
  let db: TestDb;
  const tokenOfTheDay = `tok-${Math.random().toString(36).slice(2)}`;
  let otherCa: string;
  beforeAll(async () => {
    db = await openTestDb();
    if (db.server.ca) {
      await db.pool.query(
        `CREATE ROLE veil_iam LOGIN PASSWORD '${tokenOfTheDay}' IN ROLE ${passwordLoginRole}`,
      );
      const dir = mkdtempSync(join(tmpdir(), "veil-ca-"));
      execFileSync(
        "openssl",
        [
          ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
          ...["-keyout", join(dir, "k"), "-out", join(dir, "c"), "-days", "1", "-subj", "/CN=localhost"],
        ],
        { stdio: "pipe" },
      );
      otherCa = readFileSync(join(dir, "c"), "utf8");
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
  afterAll(() => db?.close());

  const rdsPool = (opts: { host?: string; ca?: string; token?: string }) =>
    createPool({
      rds: {
        host: opts.host ?? "localhost",
        port: db.server.port,
        database: db.server.database,
        user: "veil_iam",
        region: "eu-central-2",
      },
      ca: opts.ca ?? (db.server.ca as string),
      password: rdsTokenProvider({
        host: "localhost",
        port: db.server.port,
        user: "veil_iam",
        region: "eu-central-2",
        signer: { getAuthToken: async () => opts.token ?? tokenOfTheDay },
      }),
      max: 1,
    });

  it.runIf(!process.env.DATABASE_URL)(
    "connects in RDS mode with the token as password over verified TLS",
    async () => {
      const pool = rdsPool({});
      try {
        const { rows } = await pool.query(
          "SELECT current_user AS who, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        );
        expect(rows[0]).toEqual({ who: "veil_iam", ssl: true });
      } finally {
        await pool.end();
      }
    },
  );

  it.runIf(!process.env.DATABASE_URL)("refuses a server whose certificate does not verify", async () => {
    for (const opts of [{ ca: otherCa }, { host: "127.0.0.1" }]) {
      const pool = rdsPool(opts);
      try {
        const error = await withTransaction(pool, async () => {}).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DatabaseUnavailableError);
        expect((error as DatabaseUnavailableError).reason).toMatch(/^TLS/);
      } finally {
        await pool.end();
      }
    }
  });

  it.runIf(!process.env.DATABASE_URL)(
    "reports a rejected token as unavailable, without the token",
    async () => {
      const pool = rdsPool({ token: "expired-token" });
      try {
        const error = await withTransaction(pool, async () => {}).catch((e: unknown) => e);
        expect(error).toMatchObject({ reason: "authentication failed" });
        expect(JSON.stringify(error) + String(error)).not.toContain("expired-token");
      } finally {
        await pool.end();
      }
    },
  );

  it("reports an unreachable server as DatabaseUnavailable", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const pool = createPool({
      connectionString: `postgresql://x@127.0.0.1:${port}/x`,
      connectionTimeoutMs: 2000,
    });
    try {
      await expect(withTransaction(pool, async () => {})).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await pool.end();
    }
  });
});
