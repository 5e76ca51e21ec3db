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
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { localStageConfig } from "../packages/local/src/stack/stage.ts";
import type { LoadPlan, LoadResult, Operation } from "./_load-client.ts";
import { burstOfCreates, devStack, freshStack, signUpUsers } from "./_local-stack.ts";
import { cpuByRole } from "./_proc-cpu.ts";
import { round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** A fixed mix: reads dominate, as a records app's traffic does. */
const mix: Record<Operation, number> = { read: 0.6, create: 0.25, update: 0.15 };
const coldBurst = 50;

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
    const settings = localStageConfig(target.info.stageSettings);
    const usagePlan = settings.api;
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
        pacePerSecond: flags.has("--unpaced") ? 0 : usagePlan.rateLimit,
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
          note: `${concurrency} users, 60/25/15 read/create/update, ${durationMs / 1000} s, via local CloudFront, paced to the ${settings.name} usage plan's ${usagePlan.rateLimit}/s`,
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
          note: `429s of the usage plan (${usagePlan.rateLimit} req/s, burst ${usagePlan.burstLimit}), each sent again after ~25 ms`,
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
