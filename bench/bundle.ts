/**
 * Handler bundles, ours and the peer baseline's (bench/peer/handler.ts), both bundled with the
 * production esbuild options of functions/build.ts: sizes, and cold starts in fresh Node processes,
 * alternating ours and the peer's. "Ready" is the start of the bundle's import until the first
 * invocation has answered: a create request without a token, which builds every dependency (the FLE
 * key from the local Secrets Manager, KMS keyring and client, pool object, token verifier) and stops at
 * authentication with 401 — no KMS, database or key-set request.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { bundleHandler, productionOptions, weightByPackage } from "../functions/build.ts";
import { functionNames } from "../functions/manifest.ts";
import { startLocalSecrets } from "../packages/local/src/secrets/server.ts";
import { type ProbeResult, runProbe } from "./_probe.ts";
import { median, round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const peerEntry = join(here, "peer", "handler.ts");

/** The heaviest npm packages (or workspace folders) of a bundle, as "name KB, …". */
function heaviest(metafile: Metafile, count = 5): string {
  return weightByPackage(metafile)
    .slice(0, count)
    .map(({ name, bytes }) => `${name} ${round(bytes / 1024, 0)}`)
    .join(", ");
}

/** The peer's handler, bundled exactly as ours is. */
async function bundlePeer(outfile: string): Promise<{ outfile: string; bytes: number; metafile: Metafile }> {
  const result = await build({ ...productionOptions, entryPoints: [peerEntry], outfile, metafile: true });
  return { outfile, bytes: statSync(outfile).size, metafile: result.metafile };
}

/** A create request without a token: the first call builds the dependencies, then stops at 401. */
const unauthenticatedCreate = {
  httpMethod: "POST",
  resource: "/api/records",
  path: "/api/records",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: null,
  stageVariables: null,
  requestContext: { requestId: "probe" },
  body: "category=general",
  isBase64Encoded: false,
};

const bench: BenchModule = {
  name: "bundle",
  description:
    "records handler bundle vs the peer baseline's: size, import and ready time in fresh processes",
  async run({ quick, log }) {
    const dir = mkdtempSync(join(tmpdir(), "veil-bench-bundle-"));
    const secretsDir = join(dir, "secrets");
    const metrics: Record<string, Metric | number> = {};
    try {
      log("bundling the handlers and the peer baseline as production does…");
      const ours = await bundleHandler("records", join(dir, "records", "index.mjs"));
      const peer = await bundlePeer(join(dir, "peer", "index.mjs"));
      const kb = (bytes: number) => round(bytes / 1024, 1);
      const gzipKb = (file: string) => kb(gzipSync(readFileSync(file)).byteLength);
      metrics.handler_bundle_kb = {
        value: kb(ours.bytes),
        unit: "KB",
        note: `records handler, minified ESM, all dependencies; heaviest KB: ${heaviest(ours.metafile)}`,
      };
      metrics.handler_bundle_gzip_kb = {
        value: gzipKb(ours.outfile),
        unit: "KB",
        note: "records handler, gzip -6 (about what the deployment zip holds)",
      };
      metrics.peer_bundle_kb = {
        value: kb(peer.bytes),
        unit: "KB",
        note: `peer baseline's create handler, same build; heaviest KB: ${heaviest(peer.metafile)}`,
      };
      metrics.peer_bundle_gzip_kb = {
        value: gzipKb(peer.outfile),
        unit: "KB",
        note: "peer baseline's bundle, gzip -6",
      };
      for (const name of functionNames) {
        if (name === "records") continue;
        const other = await bundleHandler(name, join(dir, name, "index.mjs"));
        metrics[`handler_bundle_${name.replace(/-/g, "_")}_kb`] = {
          value: kb(other.bytes),
          unit: "KB",
          note: `${name} handler, same build`,
        };
      }

      // The local Secrets Manager holds the FLE key both handlers read on their first invocation.
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
        const idempotencySecretArn = await secrets.define("veil/bench/idempotency-key", {
          readers: [principal.arn],
          writers: [principal.arn],
        });
        const env = {
          AWS_REGION: "eu-central-2",
          AWS_ACCESS_KEY_ID: principal.accessKeyId,
          AWS_SECRET_ACCESS_KEY: principal.secret,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          // Never contacted (no KMS call before authentication); a closed port in case one were made.
          AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:9",
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
          SST_RESOURCE_IdempotencySecret: JSON.stringify({ secretArn: idempotencySecretArn }),
          VEIL_COGNITO_JWKS: JSON.stringify({ keys: [] }),
          VEIL_PROBE_EVENT: JSON.stringify(unauthenticatedCreate),
        };
        const runs = quick ? 4 : 10;
        log(`cold starts: ${runs} fresh processes each, alternating ours and the peer's…`);
        const oursRuns: ProbeResult[] = [];
        const peerRuns: ProbeResult[] = [];
        for (let i = 0; i < runs; i++) {
          // Alternate which goes first, so neither always follows the other's page-cache warm-up.
          if (i % 2 === 0) {
            oursRuns.push(await runProbe(ours.outfile, env));
            peerRuns.push(await runProbe(peer.outfile, env));
          } else {
            peerRuns.push(await runProbe(peer.outfile, env));
            oursRuns.push(await runProbe(ours.outfile, env));
          }
        }
        for (const [who, list] of [
          ["ours", oursRuns],
          ["peer", peerRuns],
        ] as const) {
          const bad = list.find((r) => !r.exported || r.firstStatus !== 401 || r.readyMs === undefined);
          if (bad) throw new Error(`${who} handler bundle did not start as expected: ${JSON.stringify(bad)}`);
        }
        const med = (list: ProbeResult[], pick: (r: ProbeResult) => number) => median(list.map(pick));
        const procs = `median of ${runs} fresh Node ${process.versions.node} processes`;
        const figure = (value: number, note: string): Metric => ({
          value: round(value, 1),
          unit: "ms",
          note,
        });
        metrics.handler_import_ms = figure(
          med(oursRuns, (r) => r.importMs),
          `ours, ${procs}: import → handler exported`,
        );
        metrics.peer_handler_import_ms = figure(
          med(peerRuns, (r) => r.importMs),
          "peer baseline: import → handler exported",
        );
        metrics.handler_ready_ms = figure(
          med(oursRuns, (r) => r.readyMs ?? 0),
          `ours, ${procs}: import → first invocation answered (dependencies built, 401)`,
        );
        metrics.peer_handler_ready_ms = figure(
          med(peerRuns, (r) => r.readyMs ?? 0),
          "peer baseline: import → first invocation answered (dependencies built, 401)",
        );
        metrics.handler_ready_cpu_ms = figure(
          med(oursRuns, (r) => r.readyCpuMs ?? 0),
          "ours: CPU time of import → ready (less sensitive to other load)",
        );
        metrics.peer_handler_ready_cpu_ms = figure(
          med(peerRuns, (r) => r.readyCpuMs ?? 0),
          "peer baseline: CPU time of import → ready",
        );
        metrics.handler_init_vs_peer = {
          value: round(med(oursRuns, (r) => r.readyMs ?? 0) / med(peerRuns, (r) => r.readyMs ?? 0), 3),
          unit: "×",
          note: "handler_ready_ms ÷ peer_handler_ready_ms (processes alternated in one run)",
        };
        metrics.handler_init_cpu_vs_peer = {
          value: round(med(oursRuns, (r) => r.readyCpuMs ?? 0) / med(peerRuns, (r) => r.readyCpuMs ?? 0), 3),
          unit: "×",
          note: "handler_ready_cpu_ms ÷ peer_handler_ready_cpu_ms",
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
