/**
 * Local stack under load: a fresh stack (ephemeral ports, a real PostgreSQL from the Debian package)
 * with the same handler and edge code as in AWS, driven through the local CloudFront by a fixed mix of
 * 60% reads, 25% creates and 15% updates from concurrent signed-in users, plus KMS calls counted by
 * the local KMS: a cold burst of 50 concurrent first writes, and GenerateDataKey per 1000 writes.
 *
 *   pnpm bench:run local                  fresh stack, stopped afterwards
 *   pnpm bench:run local -- --against-dev the running `pnpm dev` stack (.veil/local.json); no KMS figures
 *   pnpm bench:run local -- --unpaced     users send as fast as answers come (429s retried)
 *
 * The load generator runs in its own process (bench/_load-process.ts). Everything shares the machine's
 * cores with the stack, so the figures describe the whole request path on this machine, not AWS.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startTestPostgres, type TestPostgres } from "../packages/db/src/testing/postgres.ts";
import {
  createApiClient,
  createSessionKeys,
  exportSessionKeys,
  importSessionKeys,
} from "../packages/local/src/client/index.ts";
import { signUpAndSignIn } from "../packages/local/src/cognito/client.ts";
import { ephemeralPorts, type LocalStackInfo } from "../packages/local/src/stack/config.ts";
import { type LocalStack, startLocalStack } from "../packages/local/src/stack/start.ts";
import type { LoadPlan, LoadResult, LoadUser, Operation } from "./_load-client.ts";
import { recordForm } from "./_load-client.ts";
import { cpuByRole } from "./_proc-cpu.ts";
import { round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");

/** A fixed mix: reads dominate, as a records app's traffic does. */
const mix: Record<Operation, number> = { read: 0.6, create: 0.25, update: 0.15 };
const coldBurst = 50;
/**
 * The local usage plan's rate (packages/local/src/stack/start.ts: 200 req/s, burst 400), as API
 * Gateway's: the users together start no more requests than that, so the stack is measured at the
 * rate it admits instead of answering a storm of 429s. `--unpaced` drops the pacing.
 */
const planRatePerSecond = 200;

interface Target {
  readonly info: Pick<LocalStackInfo, "edgeUrl" | "cognito" | "logDir">;
  readonly stack?: LocalStack;
  stop(): Promise<void>;
}

async function freshStack(log: (m: string) => void): Promise<Target> {
  log("starting PostgreSQL and a fresh local stack on ephemeral ports…");
  const pg: TestPostgres = await startTestPostgres();
  const stateDir = mkdtempSync(join(tmpdir(), "veil-bench-stack-"));
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      stateDir,
      ports: ephemeralPorts,
      databaseUrl: pg.connectionString,
      webRoot: stateDir,
    });
  } catch (err) {
    await pg.stop();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const running = stack;
  return {
    info: running.info,
    stack: running,
    async stop() {
      await running.stop();
      await pg.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function devStack(): Target {
  const info = JSON.parse(readFileSync(join(root, ".veil", "local.json"), "utf8")) as LocalStackInfo;
  return { info, stop: async () => {} };
}

async function signUpUsers(target: Target, count: number): Promise<LoadUser[]> {
  const tag = randomBytes(4).toString("hex");
  const users: LoadUser[] = [];
  for (let i = 0; i < count; i++) {
    const tokens = await signUpAndSignIn(target.info.cognito.endpoint, target.info.cognito.clientId, {
      email: `load-${tag}-${i}@users.example.net`,
      password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
    });
    // Extractable, so the load process can prove with the key these first calls bind to the session.
    const keys = await exportSessionKeys(await createSessionKeys({ extractable: true }));
    users.push({ token: tokens.accessToken, records: [], keys });
  }
  return users;
}

const clients = new WeakMap<LoadUser, ReturnType<typeof createApiClient>>();
/** The API client of a user's session, with the keys the load process gets too. */
function clientOf(user: LoadUser) {
  let client = clients.get(user);
  if (!client) {
    client = createApiClient({ keys: importSessionKeys(user.keys) });
    clients.set(user, client);
  }
  return client;
}

/** One create per entry, all at once: the first writes of a cold function. */
async function burstOfCreates(edgeUrl: string, users: LoadUser[], count: number): Promise<number> {
  let failed = 0;
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const user = users[i % users.length]!;
      const res = await clientOf(user)
        .fetch(`${edgeUrl}/api/records`, {
          method: "POST",
          token: user.token,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: recordForm(i),
        })
        .catch(() => undefined);
      if (res?.status !== 201) {
        failed++;
        await res?.body?.cancel();
        return;
      }
      const { id, version } = (await res.json()) as { id: string; version: number };
      user.records.push({ id, version });
    }),
  );
  return failed;
}

function runClient(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, "_load-process.ts"), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.once("message", (result) => resolve(result as LoadResult));
    child.once("exit", (code) => reject(new Error(`load client exited (${code})`)));
    child.send(plan);
  });
}

/**
 * Durations from a stack log (one JSON object a line) of the lines logged in the measured window with
 * a 2xx status: `ms` of the records function's request lines, or of the local CloudFront's access log.
 */
function loggedDurations(file: string, fromMs: number): number[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line) as { ms?: unknown; status?: unknown; timestamp?: string; time?: string };
      const at = Date.parse(entry.timestamp ?? entry.time ?? "");
      if (typeof entry.ms !== "number" || !(at >= fromMs)) continue;
      if (typeof entry.status === "number" && entry.status >= 200 && entry.status < 300) out.push(entry.ms);
    } catch {
      // not a request line
    }
  }
  return out.sort((a, b) => a - b);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (value: number, note: string): Metric => ({ value: round(value, 1), unit: "ms", note });

const bench: BenchModule = {
  name: "local",
  description: "local stack under a mixed load through the local CloudFront; KMS calls at the stack level",
  async run({ quick, log, flags }) {
    const againstDev = flags.has("--against-dev");
    const concurrency = quick ? 8 : 16;
    const durationMs = quick ? 5_000 : 20_000;
    const target = againstDev ? devStack() : await freshStack(log);
    try {
      log(`signing up ${concurrency} users…`);
      const users = await signUpUsers(target, concurrency);
      const kms = target.stack?.kms;
      const gdk = () => kms?.stats().operations.GenerateDataKey ?? 0;
      const kmsDecrypt = () => kms?.stats().operations.Decrypt ?? 0;

      log(`cold burst: ${coldBurst} concurrent first creates…`);
      const before = gdk();
      const burstStarted = performance.now();
      const burstFailed = await burstOfCreates(target.info.edgeUrl, users, coldBurst);
      const burstMs = performance.now() - burstStarted;
      const burstCalls = gdk() - before;

      log(`mixed load: ${concurrency} users, ${durationMs / 1000} s (after 2 s warm-up)…`);
      const gdkBefore = gdk();
      const decryptBefore = kmsDecrypt();
      const loadStartedAt = Date.now() + (quick ? 1_000 : 2_000);
      const roleOf = (command: string, pid: number) =>
        pid === process.pid
          ? "stack"
          : command.includes("lambda/child")
            ? "function"
            : command.includes("postgres")
              ? "postgres"
              : command.includes("_load-process")
                ? "client"
                : "other";
      const cpuBefore = cpuByRole(process.pid, roleOf);
      const result = await runClient({
        edgeUrl: target.info.edgeUrl,
        users,
        warmupMs: quick ? 1_000 : 2_000,
        durationMs,
        mix,
        seed: 20261123,
        pacePerSecond: flags.has("--unpaced") ? 0 : planRatePerSecond,
      });
      const cpuAfter = cpuByRole(process.pid, roleOf);
      const loadGdk = gdk() - gdkBefore;
      const loadDecrypt = kmsDecrypt() - decryptBefore;

      const all = Object.values(result.latenciesMs)
        .flat()
        .sort((a, b) => a - b);
      const byOp = (op: Operation) => [...result.latenciesMs[op]].sort((a, b) => a - b);
      const errors = Object.values(result.errors).reduce((a, b) => a + b, 0) + burstFailed;
      if (errors > 0) log(`errors: ${JSON.stringify({ ...result.errors, burst: burstFailed })}`);
      const seconds = result.elapsedMs / 1000;
      const metrics: Record<string, Metric | number> = {
        local_rps: {
          value: round(all.length / seconds, 1),
          unit: "req/s",
          note: `${concurrency} users, 60/25/15 read/create/update, ${durationMs / 1000} s, via local CloudFront, paced to the plan's ${planRatePerSecond}/s`,
        },
        local_p50_ms: ms(percentile(all, 50), "all operations"),
        local_p99_ms: ms(percentile(all, 99), "all operations"),
        local_p99_read_ms: ms(percentile(byOp("read"), 99), "GET /api/records/{id} (decrypt + audit)"),
        local_p99_create_ms: ms(percentile(byOp("create"), 99), "POST /api/records (FLE + encrypt + insert)"),
        local_p99_update_ms: ms(
          percentile(byOp("update"), 99),
          "POST /api/records/{id} with If-Match (FLE applies to POST)",
        ),
        local_requests: { value: all.length, note: "completed in the measured window" },
        local_throttled: {
          value: result.throttled,
          note: "429s of the usage plan (local: 200 req/s, burst 400), each sent again after ~25 ms",
        },
        local_errors: {
          value: errors,
          note: "non-2xx or failed requests, load and burst (by kind in the log)",
        },
      };
      // Where the time goes: the function's own view of each request, and CloudFront's (whole path).
      const inHandler = loggedDurations(join(target.info.logDir, "records.log"), loadStartedAt);
      const atEdge = loggedDurations(join(target.info.logDir, "cloudfront.log"), loadStartedAt);
      if (inHandler.length > 0) {
        metrics.local_handler_p50_ms = ms(percentile(inHandler, 50), "inside the records function (its log)");
        metrics.local_handler_p99_ms = ms(percentile(inHandler, 99), "inside the records function (its log)");
      }
      if (atEdge.length > 0) {
        metrics.local_cloudfront_p99_ms = ms(
          percentile(atEdge, 99),
          "local CloudFront access log (whole path)",
        );
      }
      // CPU share of each part while the load ran (the client's own process is gone by now).
      const windowMs = result.elapsedMs + (quick ? 1_000 : 2_000);
      const stackCpuMs = ["stack", "function", "postgres"].reduce(
        (sum, role) => sum + (cpuAfter.get(role) ?? 0) - (cpuBefore.get(role) ?? 0),
        0,
      );
      if (stackCpuMs > 0) {
        const perRequest = (stackCpuMs * result.elapsedMs) / windowMs / all.length;
        metrics.local_cpu_ms_per_request = {
          value: round(perRequest, 2),
          unit: "ms",
          note: "CPU of stack + function + PostgreSQL per completed request (client excluded)",
        };
        metrics.local_capacity_rps_estimate = {
          value: round((availableParallelism() * 1000) / perRequest, 0),
          unit: "req/s",
          note: "cores ÷ CPU per request: what this machine could serve without the usage plan",
        };
      }
      metrics.local_cpu_client_cores = {
        value: round(result.cpuMs / windowMs, 2),
        unit: "cores",
        note: "the load generator's own process",
      };
      for (const role of ["stack", "function", "postgres"]) {
        const used = (cpuAfter.get(role) ?? 0) - (cpuBefore.get(role) ?? 0);
        if (cpuAfter.has(role)) {
          metrics[`local_cpu_${role}_cores`] = {
            value: round(used / windowMs, 2),
            unit: "cores",
            note: {
              stack: "CloudFront + FLE, edge signer, gateway + SigV4, KMS, Cognito (one process)",
              function: "the records function (Lambda stand-in: one process, one instance)",
              postgres: "PostgreSQL server processes",
            }[role],
          };
        }
      }
      if (kms) {
        Object.assign(metrics, {
          local_kms_calls_cold_burst_50: {
            value: burstCalls,
            unit: "calls",
            note: `GenerateDataKey seen by the local KMS for ${coldBurst} concurrent first creates (${round(burstMs / 1000, 1)} s incl. cold start)`,
          },
          local_kms_calls_per_1000_writes: {
            value: round(((burstCalls + loadGdk) * 1000) / (coldBurst - burstFailed + result.writes), 2),
            unit: "calls",
            note: `GenerateDataKey per 1000 writes, cold burst included (${burstCalls + loadGdk} for ${coldBurst - burstFailed + result.writes} writes)`,
          },
          local_kms_decrypt_calls_during_load: {
            value: loadDecrypt,
            unit: "calls",
            note: "KMS Decrypt for every read of the load (data keys cached per instance)",
          },
        });
      }
      return metrics;
    } finally {
      await target.stop();
    }
  },
};

export default bench;
