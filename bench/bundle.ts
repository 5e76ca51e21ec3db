/**
 * Handler bundles: the records handler bundled as production does (functions/build.ts), its size, and
 * its cold start in fresh Node processes — import of the bundle until `handler` is exported, and the
 * first invocation, which builds the dependencies (FLE key from Secrets Manager, pool, verifiers).
 * The first invocation runs against the local Secrets Manager; its request is refused at
 * authentication (401), so it needs no database, KMS or token. With `-- --baseline=<git ref>` the same
 * handler is also bundled with `@veil/aws` of that revision (`_baseline.ts`), and the two cold-start
 * process by process, alternated.
 */
import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import {
  bundleHandler,
  type HandlerName,
  handlerEntries,
  recordsBundleGoalKb,
  weightByPackage,
} from "../functions/build.ts";
import { startLocalSecrets } from "../packages/local/src/secrets/server.ts";
import { baselineRef, extractBaseline } from "./_baseline.ts";
import { round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const probe = join(here, "_init-probe.mjs");

interface ProbeResult {
  importMs: number;
  importCpuMs: number;
  readyMs: number;
  exported: boolean;
  firstInvokeMs?: number;
  firstInvokeCpuMs?: number;
  firstStatus?: number;
  secondInvokeMs?: number;
}

function runProbe(bundle: string, env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [probe, pathToFileURL(bundle).href],
      // Only what a Lambda environment would have: nothing of this process's environment leaks in.
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`init probe failed: ${stderr.split("\n")[0] ?? err.message}`));
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as ProbeResult);
      },
    );
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};

/** A records-API event that reaches the handler's dependencies and stops at authentication. */
const unauthenticatedEvent = {
  httpMethod: "GET",
  resource: "/api/records",
  path: "/api/records",
  headers: {},
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: { requestId: "probe" },
  body: null,
  isBase64Encoded: false,
};

const bench: BenchModule = {
  name: "bundle",
  description: "records handler bundle: size, import time and first invocation in fresh processes",
  async run({ quick, log, flags }) {
    const ref = baselineRef(flags);
    const dir = mkdtempSync(join(tmpdir(), "veil-bench-bundle-"));
    const secretsDir = join(dir, "secrets");
    const metrics: Record<string, Metric | number> = {};
    try {
      log("bundling the handlers as production does…");
      const records = await bundleHandler("records", join(dir, "records", "index.mjs"));
      const code = readFileSync(records.outfile);
      const heaviest = weightByPackage(records.metafile)
        .slice(0, 5)
        .map((p) => `${p.name} ${round(p.bytes / 1024, 0)}`)
        .join(", ");
      metrics.handler_bundle_kb = {
        value: round(records.bytes / 1024, 1),
        unit: "KB",
        goal: { max: recordsBundleGoalKb },
        note: `records, minified ESM, all dependencies; heaviest KB: ${heaviest}`,
      };
      metrics.handler_bundle_gzip_kb = {
        value: round(gzipSync(code).byteLength / 1024, 1),
        unit: "KB",
        note: "same, gzip -6 (about what the deployment zip holds)",
      };
      let baselineOutfile: string | undefined;
      if (ref !== undefined) {
        const base = extractBaseline(ref);
        try {
          const built = await bundleHandler("records", join(dir, "baseline", "index.mjs"), {
            alias: { "@veil/aws": join(base.awsDir, "src", "index.ts") },
          });
          baselineOutfile = built.outfile;
          metrics.handler_baseline_bundle_kb = {
            value: round(built.bytes / 1024, 1),
            unit: "KB",
            note: `records, with @veil/aws of ${ref}`,
          };
        } finally {
          base.remove();
        }
      }
      for (const name of Object.keys(handlerEntries) as HandlerName[]) {
        if (name === "records") continue;
        const other = await bundleHandler(name, join(dir, name, "index.mjs"));
        metrics[`handler_bundle_${name.replace(/-/g, "_")}_kb`] = {
          value: round(other.bytes / 1024, 1),
          unit: "KB",
          note: `${name} handler, same build`,
        };
      }

      // The local Secrets Manager holds an FLE key for the first invocation's dependency build.
      const principal = {
        accessKeyId: "AKIAPROBE",
        secret: "probe-secret",
        arn: "arn:aws:iam::000000000000:role/probe",
      };
      const secrets = await startLocalSecrets({
        stateDir: secretsDir,
        region: "eu-central-2",
        principals: (id) => (id === principal.accessKeyId ? principal : undefined),
      });
      try {
        const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
        const secretArn = await secrets.define(
          "veil/bench/fle",
          { readers: [principal.arn], writers: [principal.arn] },
          JSON.stringify({
            keyName: "bench-key",
            privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }),
          }),
        );
        const env = {
          AWS_REGION: "eu-central-2",
          AWS_ACCESS_KEY_ID: principal.accessKeyId,
          AWS_SECRET_ACCESS_KEY: principal.secret,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          AWS_LAMBDA_FUNCTION_NAME: "veil-bench-records",
          SST_RESOURCE_App: JSON.stringify({ name: "veil", stage: "bench" }),
          SST_RESOURCE_RecordsKey: JSON.stringify({
            arn: "arn:aws:kms:eu-central-2:000000000000:key/00000000-0000-0000-0000-000000000000",
          }),
          SST_RESOURCE_Database: JSON.stringify({
            host: "127.0.0.1",
            port: 5432,
            username: "veil",
            database: "veil",
            url: "postgres://veil@127.0.0.1:5432/veil",
          }),
          SST_RESOURCE_UserPool: JSON.stringify({ id: "eu-central-2_bench" }),
          SST_RESOURCE_UserPoolClient: JSON.stringify({ id: "benchclient" }),
          SST_RESOURCE_FleKey: JSON.stringify({ secretArn, providerId: "veil-fle" }),
          VEIL_COGNITO_JWKS: JSON.stringify({ keys: [] }),
          VEIL_PROBE_EVENT: JSON.stringify(unauthenticatedEvent),
        };
        const runs = quick ? 3 : 10;
        log(`cold starts: ${runs} fresh processes…`);
        const results: ProbeResult[] = [];
        const baselineResults: ProbeResult[] = [];
        for (let i = 0; i < runs; i++) {
          results.push(await runProbe(records.outfile, env));
          if (baselineOutfile) baselineResults.push(await runProbe(baselineOutfile, env));
        }
        const bad = [...results, ...baselineResults].find((r) => !r.exported || r.firstStatus !== 401);
        if (bad) throw new Error(`handler bundle did not start as expected: ${JSON.stringify(bad)}`);
        metrics.handler_init_ms = {
          value: round(median(results.map((r) => r.importMs)), 1),
          unit: "ms",
          goal: { max: 60 },
          note: `median of ${runs} fresh Node ${process.versions.node} processes: import → handler exported`,
        };
        metrics.handler_init_cpu_ms = {
          value: round(median(results.map((r) => r.importCpuMs)), 1),
          unit: "ms",
          note: "same, CPU time of the import (less sensitive to other load)",
        };
        metrics.handler_process_ready_ms = {
          value: round(median(results.map((r) => r.readyMs)), 1),
          unit: "ms",
          note: "same, from process start (Node's own start included)",
        };
        metrics.handler_first_invocation_ms = {
          value: round(median(results.map((r) => r.firstInvokeMs ?? 0)), 1),
          unit: "ms",
          note: "first call: dependency build (FLE key from local Secrets Manager, pool, verifier) + 401",
        };
        const coldCpu = (rs: ProbeResult[]) => rs.map((r) => r.importCpuMs + (r.firstInvokeCpuMs ?? 0));
        metrics.handler_cold_cpu_ms = {
          value: round(median(coldCpu(results)), 1),
          unit: "ms",
          note: "import + first call, CPU of the function's process, median",
        };
        if (baselineResults.length > 0) {
          metrics.handler_baseline_init_cpu_ms = {
            value: round(median(baselineResults.map((r) => r.importCpuMs)), 1),
            unit: "ms",
            note: `import CPU, median, with @veil/aws of ${ref}`,
          };
          metrics.handler_baseline_cold_cpu_ms = {
            value: round(median(coldCpu(baselineResults)), 1),
            unit: "ms",
            note: `import + first call CPU, median, with @veil/aws of ${ref}`,
          };
        }
        metrics.handler_second_invocation_ms = {
          value: round(median(results.map((r) => r.secondInvokeMs ?? 0)), 2),
          unit: "ms",
          note: "second call, dependencies built (same 401 path)",
        };
      } finally {
        await secrets.stop();
      }
      return metrics;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
