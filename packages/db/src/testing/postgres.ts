/**
 * A throw-away real PostgreSQL server for tests, from the Debian `postgresql` package's binaries
 * (`/usr/lib/postgresql/<version>/bin`; `apt-get install postgresql`). Dev and test only.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** A running test server. */
export interface TestPostgres {
  /** Superuser connection, no TLS (`sslmode=disable`). */
  connectionString: string;
  host: string;
  port: number;
  database: string;
  /**
   * PEM of the server's self-signed certificate (CN and SAN `localhost`), to pass as the CA when
   * testing verified TLS; undefined when the server came from `DATABASE_URL`.
   */
  ca?: string;
  /** Kills the server and deletes its folder (or drops the database when using `DATABASE_URL`). */
  stop(): Promise<void>;
}

/**
 * Role whose members must log in with a password over TLS (`hostssl … scram-sha-256`); every other
 * role is trusted, as befits a throw-away server on 127.0.0.1.
 */
export const passwordLoginRole = "password_login";

/**
 * The folder of the newest installed PostgreSQL's binaries (`postgres`, `pg_dump`, `pg_restore`, …).
 * @example execFileSync(join(postgresBinDir(), "pg_dump"), ["--format=custom", url])
 */
export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, "bin", "postgres")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) {
    throw new Error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql",
    );
  }
  return join(base, versions[0], "bin");
}

/** uid/gid to run the server as: ourselves, or `postgres` when we are root (PostgreSQL refuses root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
  return { uid, gid };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(connectionString: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited with code ${server.exitCode}`);
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A fresh database on the server named by `DATABASE_URL`, dropped again by `stop`. */
async function useExistingServer(url: string): Promise<TestPostgres> {
  const database = `veil_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const target = new URL(url);
  target.pathname = `/${database}`;
  return {
    connectionString: target.toString(),
    host: target.hostname,
    port: Number(target.port || 5432),
    database,
    async stop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Starts a real PostgreSQL for a test run: `initdb` into a new temporary folder, a server on a free
 * port of 127.0.0.1 with its unix socket inside that folder, TLS on with a certificate made at run
 * time (openssl), durability switched off for speed. Runs the server as `postgres` when we are root.
 * When `DATABASE_URL` is set, uses that server instead, with a fresh database per call.
 */
export async function startTestPostgres(options: { timeoutMs?: number } = {}): Promise<TestPostgres> {
  const url = process.env.DATABASE_URL;
  if (url) return useExistingServer(url);

  const bin = postgresBinDir();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), "veil-pg-"));
  const data = join(dir, "data");
  const own = (path: string) => {
    if (user) chownSync(path, user.uid, user.gid);
  };
  let server: ChildProcess | undefined;
  const cleanup = () => {
    if (server && server.exitCode === null) server.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  try {
    own(dir);
    const run = { ...(user ?? {}), env: { ...process.env, LC_ALL: "C" }, stdio: "pipe" as const };
    execFileSync(
      join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
      run,
    );

    const cert = join(dir, "server.crt");
    const key = join(dir, "server.key");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
      ],
      { stdio: "pipe" },
    );
    own(cert);
    own(key);
    chmodSync(key, 0o600);
    const ca = readFileSync(cert, "utf8");

    writeFileSync(
      join(data, "pg_hba.conf"),
      [
        "local all all trust",
        `hostssl all +${passwordLoginRole} 127.0.0.1/32 scram-sha-256`,
        `host all +${passwordLoginRole} 127.0.0.1/32 reject`,
        "host all all 127.0.0.1/32 trust",
        "",
      ].join("\n"),
    );
    own(join(data, "pg_hba.conf"));

    const host = "127.0.0.1";
    let port = 0;
    let connectionString = "";
    // The free port can be taken between probing and binding: try a few times.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      connectionString = `postgresql://postgres@${host}:${port}/postgres?sslmode=disable`;
      server = spawn(
        join(bin, "postgres"),
        [
          ...["-D", data, "-p", String(port), "-h", host, "-k", dir],
          ...["-c", "ssl=on", "-c", `ssl_cert_file=${cert}`, "-c", `ssl_key_file=${key}`],
          ...["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
          ...["-c", "max_connections=50"],
        ],
        { ...(user ?? {}), env: { ...process.env, LC_ALL: "C" }, stdio: "ignore" },
      );
      try {
        await waitReady(connectionString, server, options.timeoutMs ?? 30_000);
        break;
      } catch (error) {
        server.kill("SIGKILL");
        await waitExit(server, 5000);
        if (attempt >= 3) throw error;
      }
    }

    const admin = new pg.Client({ connectionString });
    await admin.connect();
    await admin.query(`CREATE ROLE ${passwordLoginRole} NOLOGIN`);
    await admin.end();

    const child = server as ChildProcess;
    return {
      connectionString,
      host,
      port,
      database: "postgres",
      ca,
      async stop() {
        process.removeListener("exit", cleanup);
        child.kill("SIGINT");
        await waitExit(child, 10_000);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    process.removeListener("exit", cleanup);
    cleanup();
    throw error;
  }
}
