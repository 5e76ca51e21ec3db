/**
 * Edge benchmark: the Lambda@Edge signer on a 1 MB body against raw SHA-256 of the same bytes (the
 * body hash is the one unavoidable cost; base64 decoding of CloudFront's body is the other, measured
 * on its own), a small form POST, the deployable bundle's size, and a cold start (import + first
 * request, CPU, fresh processes). The signer measured is the deployable bundle (`edge/build-options.ts`).
 * With `-- --baseline=<git ref>` the edge of that revision (`_baseline.ts`) is bundled the same way and
 * measured beside it, interleaved round by round and process by process.
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { edgeBuildOptions } from "../edge/build-options.ts";
import type { OriginRequestHandler, OriginRequestHandlerOptions } from "../edge/src/index.ts";
import { baselineRef, extractBaseline } from "./_baseline.ts";
import { round, timeCases } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const probe = join(here, "_init-probe.mjs");
const region = "eu-west-1";
const credentials = { accessKeyId: "ASIABENCH", secretAccessKey: "bench", sessionToken: "token" };
/** Largest body an origin-request function sees (CloudFront truncates beyond). */
const oneMb = 1024 * 1024;

type CloudFrontRequestEvent = Parameters<OriginRequestHandler>[0];
type CloudFrontRequest = CloudFrontRequestEvent["Records"][number]["cf"]["request"];

function event(method: string, bodyBase64: string, contentType: string): CloudFrontRequestEvent {
  const request: CloudFrontRequest = {
    clientIp: "203.0.113.9",
    method,
    uri: "/api/records",
    querystring: "",
    headers: {
      host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
      "content-type": [{ key: "Content-Type", value: contentType }],
      authorization: [{ key: "Authorization", value: "Bearer aaaa.bbbb.cccc" }],
    },
    body: { action: "read-only", data: bodyBase64, encoding: "base64", inputTruncated: false },
    origin: {
      custom: {
        customHeaders: {},
        domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
        keepaliveTimeout: 5,
        path: "/prod",
        port: 443,
        protocol: "https",
        readTimeout: 30,
        sslProtocols: ["TLSv1.2"],
      },
    },
  };
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "origin-request",
            requestId: "bench",
          },
          request,
        },
      },
    ],
  };
}

/** A fresh copy of the parts the signer rewrites (its headers); the body string is shared, as in Lambda. */
function fresh(e: CloudFrontRequestEvent): CloudFrontRequestEvent {
  const record = e.Records[0]!;
  const request = record.cf.request;
  return {
    Records: [{ cf: { config: record.cf.config, request: { ...request, headers: { ...request.headers } } } }],
  };
}

interface EdgeBundle {
  readonly file: string;
  readonly bytes: number;
  readonly createOriginRequestHandler: (options: OriginRequestHandlerOptions) => OriginRequestHandler;
}

/** Builds the deployable bundle of the working tree, or of the baseline revision, and loads it. */
async function edgeBundle(dir: string, ref?: string): Promise<EdgeBundle> {
  const file = join(dir, ref === undefined ? "edge.mjs" : "baseline.mjs");
  const options = edgeBuildOptions({ region });
  const base = ref === undefined ? undefined : extractBaseline(ref);
  try {
    await build({
      ...options,
      ...(base
        ? {
            entryPoints: [join(base.edgeDir, "src", "index.ts")],
            alias: { "@veil/aws/sigv4": join(base.awsDir, "src", "signer.ts") },
          }
        : {}),
      outfile: file,
    });
  } finally {
    base?.remove();
  }
  const mod = (await import(pathToFileURL(file).href)) as Pick<EdgeBundle, "createOriginRequestHandler">;
  return { file, bytes: statSync(file).size, createOriginRequestHandler: mod.createOriginRequestHandler };
}

/** CPU of a fresh process that imports the bundle and signs one request (`_init-probe.mjs`). */
function coldStartCpuMs(file: string, event: CloudFrontRequestEvent): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [probe, pathToFileURL(file).href],
      {
        env: {
          PATH: process.env.PATH ?? "",
          AWS_ACCESS_KEY_ID: credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
          AWS_SESSION_TOKEN: credentials.sessionToken,
          VEIL_PROBE_EVENT: JSON.stringify(event),
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`edge probe failed: ${stderr.split("\n")[0] ?? err.message}`));
        const r = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
          importCpuMs: number;
          firstInvokeCpuMs?: number;
        };
        resolve(r.importCpuMs + (r.firstInvokeCpuMs ?? 0));
      },
    );
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const bench: BenchModule = {
  name: "edge",
  description: "Lambda@Edge SigV4 signer: 1 MB body vs raw SHA-256, small form, cold start, bundle size",
  async run({ quick, log, flags }) {
    const ref = baselineRef(flags);
    const dir = mkdtempSync(join(tmpdir(), "veil-bench-edge-"));
    try {
      const bundles: Record<string, EdgeBundle> = { edge: await edgeBundle(dir) };
      if (ref !== undefined) bundles.baseline = await edgeBundle(dir, ref);
      const signers = Object.fromEntries(
        Object.entries(bundles).map(([name, b]) => [
          name,
          b.createOriginRequestHandler({ region, credentials: () => credentials }),
        ]),
      );
      const body = randomBytes(oneMb);
      // Through JSON, as the Lambda runtime hands the event over: a string from JSON.parse decodes at
      // about half the speed of the external string `toString("base64")` returns for a large buffer.
      const bodyBase64 = (JSON.parse(JSON.stringify({ data: body.toString("base64") })) as { data: string })
        .data;
      const big = event("PUT", bodyBase64, "application/octet-stream");
      const form = Buffer.from(
        `category=general&fullName=${"A".repeat(600)}&notes=${"B".repeat(1400)}`, // ~2 KB, as after FLE
      ).toString("base64");
      const small = event("POST", form, "application/x-www-form-urlencoded");
      const scratch = Buffer.allocUnsafeSlow(oneMb + 3);

      const cases: Record<string, { run: () => unknown; batch: number }> = {
        sha256: { run: () => createHash("sha256").update(body).digest("hex"), batch: 8 },
        base64Decode: { run: () => Buffer.from(bodyBase64, "base64"), batch: 8 },
        base64DecodeInto: { run: () => scratch.write(bodyBase64, "base64"), batch: 8 },
      };
      for (const [name, sign] of Object.entries(signers)) {
        cases[`${name}:sign1mb`] = { run: () => sign(fresh(big)), batch: 8 };
        cases[`${name}:signSmall`] = { run: () => sign(fresh(small)), batch: 200 };
      }
      log(`timing ${quick ? 4 : 25} interleaved rounds (${Object.keys(signers).join(", ")})…`);
      const t = await timeCases(cases, quick ? 4 : 25);
      const b = (k: string) => t[k]!.bestUs;

      const runs = quick ? 3 : 10;
      log(`cold starts: ${runs} fresh processes per bundle, alternated…`);
      const cold: Record<string, number[]> = Object.fromEntries(Object.keys(bundles).map((n) => [n, []]));
      for (let i = 0; i < runs; i++) {
        for (const [name, bundle] of Object.entries(bundles)) {
          cold[name]!.push(await coldStartCpuMs(bundle.file, small));
        }
      }

      const metrics: Record<string, Metric> = {
        edge_sha256_1mb_us: { value: round(b("sha256")), unit: "µs", note: "createHash sha256, 1 MiB" },
        edge_base64_decode_1mb_us: {
          value: round(b("base64Decode")),
          unit: "µs",
          note: "Buffer.from(base64) of 1 MiB (fresh buffer), string from JSON.parse",
        },
        edge_base64_decode_into_1mb_us: {
          value: round(b("base64DecodeInto")),
          unit: "µs",
          note: "buffer.write(base64) of 1 MiB into a reused buffer, string from JSON.parse",
        },
      };
      for (const name of Object.keys(bundles)) {
        // The working tree's figures keep their names; the baseline's are prefixed.
        const m = (metric: string) => (name === "edge" ? `edge_${metric}` : `edge_baseline_${metric}`);
        const what = name === "edge" ? "" : ` (baseline ${ref})`;
        const sign1mb = t[`${name}:sign1mb`]!;
        const signSmall = t[`${name}:signSmall`]!;
        metrics[m("sign_1mb_vs_sha256")] = {
          value: round(b("sha256") / sign1mb.bestUs, 3),
          unit: "×",
          ...(name === "edge" ? { goal: { min: 0.9 } } : {}),
          note: `throughput: raw SHA-256 of 1 MiB ÷ signing a 1 MiB body (includes base64 decode)${what}`,
        };
        metrics[m("sign_1mb_vs_sha256_plus_base64")] = {
          value: round((b("sha256") + b("base64DecodeInto")) / sign1mb.bestUs, 3),
          unit: "×",
          note: `same, baseline = SHA-256 + base64 decode into a buffer (the unavoidable work)${what}`,
        };
        metrics[m("sign_1mb_vs_sha256_plus_base64_cpu")] = {
          value: round((t.sha256!.bestCpuUs + t.base64DecodeInto!.bestCpuUs) / sign1mb.bestCpuUs, 3),
          unit: "×",
          note: `same, CPU time of the process (every thread), least-CPU rounds${what}`,
        };
        metrics[m("sign_1mb_vs_sha256_plus_base64_cpu_median")] = {
          value: round((t.sha256!.medianCpuUs + t.base64DecodeInto!.medianCpuUs) / sign1mb.medianCpuUs, 3),
          unit: "×",
          note: `same, median rounds${what}`,
        };
        for (const [key, timing, label] of [
          ["sign_1mb", sign1mb, "origin-request handler, 1 MiB PUT"],
          ["sign_form_2kb", signSmall, "form POST after FLE"],
        ] as const) {
          metrics[m(`${key}_us`)] = {
            value: round(timing.bestUs),
            unit: "µs",
            note: `${label}, best round${what}`,
          };
          metrics[m(`${key}_median_us`)] = {
            value: round(timing.medianUs),
            unit: "µs",
            note: `same, median round${what}`,
          };
          metrics[m(`${key}_cpu_us`)] = {
            value: round(timing.bestCpuUs),
            unit: "µs",
            note: `same, CPU of the process (every thread), least-CPU round${what}`,
          };
          metrics[m(`${key}_cpu_median_us`)] = {
            value: round(timing.medianCpuUs),
            unit: "µs",
            note: `same, CPU, median round${what}`,
          };
        }
        metrics[m("cold_cpu_ms")] = {
          value: round(median(cold[name]!), 1),
          unit: "ms",
          note: `fresh process: import the bundle + sign one form POST, CPU, median of ${runs}${what}`,
        };
        metrics[m("cold_cpu_best_ms")] = {
          value: round(Math.min(...cold[name]!), 1),
          unit: "ms",
          note: `same, best process${what}`,
        };
        metrics[m("bundle_kb")] = {
          value: round(bundles[name]!.bytes / 1024, 1),
          unit: "KB",
          ...(name === "edge" ? { goal: { max: 30 } } : {}),
          note: `edge/build-options.ts output: ESM, minified${what}`,
        };
      }
      return metrics;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
