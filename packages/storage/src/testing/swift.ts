/**
 * A throw-away OpenStack Swift with the S3 API (s3api) for tests: a real S3-compatible server with
 * versioning (version ids, delete markers), real SigV4 checks (a wrong secret, a changed signed header
 * or an expired presigned URL is a 403) and multipart uploads. From the Debian packages
 * `swift swift-proxy swift-object swift-container swift-account` (`apt-get install …`); one replica,
 * one device in a temporary folder, tempauth with one user, object versioning allowed. Dev and test only.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

/** A running test Swift. */
export interface TestSwift {
  /** The S3 endpoint (path-style addressing). */
  readonly endpoint: string;
  readonly region: string;
  /** The tempauth user's S3 key pair (access key `account:user`). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The folder the object, container and account data live in (for canary scans). */
  readonly dataDir: string;
  /** Kills the servers and deletes their folder. */
  stop(): Promise<void>;
}

export interface StartTestSwiftOptions {
  /** The region SigV4 scopes must name (s3api's `location`). Default `us-east-1`. */
  readonly region?: string;
  readonly timeoutMs?: number;
}

const bin = "/usr/bin";
const servers = ["object", "container", "account"] as const;

function freePort(): Promise<number> {
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

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
    return res.ok;
  } catch {
    return false;
  }
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function serverConf(dir: string, kind: string, port: number, user: string): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
devices = ${join(dir, "srv")}
mount_check = false
swift_dir = ${join(dir, "etc")}
user = ${user}
workers = 0
log_level = WARNING

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
`;
}

function proxyConf(dir: string, port: number, user: string, region: string, secret: string): string {
  const plain = [
    "catch_errors",
    "gatekeeper",
    "healthcheck",
    "cache",
    "listing_formats",
    "copy",
    "slo",
    "dlo",
    "symlink",
  ];
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
swift_dir = ${join(dir, "etc")}
user = ${user}
workers = 0
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:tempauth]
use = egg:swift#tempauth
user_veil_tester = ${secret} .admin

[filter:s3api]
use = egg:swift#s3api
location = ${region}

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_object_versioning = true

[filter:proxy-logging]
use = egg:swift#proxy_logging

${plain.map((f) => `[filter:${f}]\nuse = egg:swift#${f === "cache" ? "memcache" : f}\n`).join("\n")}`;
}

/**
 * Starts Swift with s3api on free ports of 127.0.0.1 in a new temporary folder: builds the three rings
 * (one replica, one device), starts the object, container, account and proxy servers, and waits until
 * they answer (about 1.5–3 s).
 */
export async function startTestSwift(options: StartTestSwiftOptions = {}): Promise<TestSwift> {
  if (!existsSync(join(bin, "swift-proxy-server")) || !existsSync(join(bin, "swift-ring-builder"))) {
    throw new Error(
      "OpenStack Swift not found: apt-get install swift swift-proxy swift-object swift-container swift-account memcached",
    );
  }
  const region = options.region ?? "us-east-1";
  const dir = mkdtempSync(join(tmpdir(), "veil-swift-"));
  const etc = join(dir, "etc");
  mkdirSync(etc);
  mkdirSync(join(dir, "srv", "d1"), { recursive: true });
  const user = userInfo().username;
  const secret = randomBytes(18).toString("base64url");
  const children: ChildProcess[] = [];
  const cleanup = () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  try {
    const hash = randomBytes(8).toString("hex");
    writeFileSync(
      join(etc, "swift.conf"),
      `[swift-hash]\nswift_hash_path_suffix = ${hash}\nswift_hash_path_prefix = ${hash}\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n`,
    );
    const ports = { object: await freePort(), container: await freePort(), account: await freePort() };
    const proxyPort = await freePort();
    for (const kind of servers) {
      const builder = join(etc, `${kind}.builder`);
      // Partition power 0, one replica, no min-part-hours: one device holds everything.
      execFileSync(join(bin, "swift-ring-builder"), [builder, "create", "0", "1", "1"], { stdio: "pipe" });
      execFileSync(
        join(bin, "swift-ring-builder"),
        [builder, "add", `r1z1-127.0.0.1:${ports[kind]}/d1`, "1"],
        {
          stdio: "pipe",
        },
      );
      try {
        execFileSync(join(bin, "swift-ring-builder"), [builder, "rebalance"], { stdio: "pipe" });
      } catch (err) {
        // Exit code 1 is a warning (e.g. "balance is off"), the ring is written; 2 is an error.
        if ((err as { status?: number }).status !== 1) throw err;
      }
      writeFileSync(join(etc, `${kind}-server.conf`), serverConf(dir, kind, ports[kind], user));
    }
    writeFileSync(join(etc, "proxy-server.conf"), proxyConf(dir, proxyPort, user, region, secret));

    const start = (name: string, conf: string) => {
      const log = join(dir, `${name}.log`);
      writeFileSync(log, "");
      const child = spawn(join(bin, `swift-${name}-server`), [join(etc, conf)], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, PYTHONUNBUFFERED: "1" },
      });
      child.stderr?.on("data", (d: Buffer) => {
        try {
          writeFileSync(log, d, { flag: "a" });
        } catch {
          // the folder is gone after stop
        }
      });
      children.push(child);
      return child;
    };
    for (const kind of servers) start(kind, `${kind}-server.conf`);
    start("proxy", "proxy-server.conf");

    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const exited = children.find((c) => c.exitCode !== null);
      if (exited) throw new Error("a Swift server exited during start");
      const up = await Promise.all([...Object.values(ports).map(canConnect), healthy(proxyPort)]);
      if (up.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error("Swift did not start in time");
      await new Promise((r) => setTimeout(r, 100));
    }

    return {
      endpoint: `http://127.0.0.1:${proxyPort}`,
      region,
      credentials: { accessKeyId: "veil:tester", secretAccessKey: secret },
      dataDir: join(dir, "srv"),
      async stop() {
        process.removeListener("exit", cleanup);
        for (const c of children) c.kill("SIGTERM");
        await Promise.all(children.map((c) => waitExit(c, 5000)));
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    const logs = servers
      .map((k) => join(dir, `${k}.log`))
      .concat(join(dir, "proxy.log"))
      .filter(existsSync)
      .map((f) => readFileSync(f, "utf8").slice(-400))
      .join("\n");
    process.removeListener("exit", cleanup);
    cleanup();
    throw logs.trim() ? new Error(`${(error as Error).message}\n${logs}`) : error;
  }
}
