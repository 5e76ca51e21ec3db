/**
 * AWS clients of a handler: the AWS SDK v3 modular clients against `@veil/aws` (aws4 under a thin typed
 * wrapper), in a handler that imports KMS, Secrets Manager and the RDS token signer; with
 * `-- --baseline=<git ref>`, also `@veil/aws` as it was at that revision (`_baseline.ts`). Each is
 * bundled with the production options of `functions/build.ts`; its size, its import time in fresh Node
 * processes (the clients are built at import, as the handlers build them) and its first invocation
 * (GetSecretValue, GenerateDataKey, Decrypt against the local stand-ins, one RDS token) are measured,
 * the variants alternated process by process so that load on the machine hits all alike. CPU times are
 * those of the function's process; medians and best of the runs.
 * docs/adr/0002-aws-clients.md records the decision taken on these figures.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { productionOptions } from "../functions/build.ts";
import { keyPolicy } from "../packages/local/src/kms/key-policy.ts";
import { startLocalKms } from "../packages/local/src/kms/server.ts";
import { startLocalSecrets } from "../packages/local/src/secrets/server.ts";
import { baselineRef, extractBaseline } from "./_baseline.ts";
import { type ProbeResult, runProbe } from "./_probe.ts";
import { median, round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
/** Where the handlers' imports resolve: `packages/aws` has the SDK clients (dev dependencies) and aws4. */
const resolveDir = join(here, "..", "packages", "aws");

const handlerBody = (calls: string) => `
export async function handler(event) {
${calls}
  return { statusCode: secret && plaintext?.length === 32 && token.includes("X-Amz-Signature=") ? 200 : 500 };
}`;

const veilHandler = `
import { createKmsClient, createRdsTokenSigner, createSecretsManagerClient } from "./src/index.ts";
const kms = createKmsClient();
const secrets = createSecretsManagerClient();
const signer = createRdsTokenSigner({ hostname: "db.example.internal", port: 5432, username: "veil_app" });
${handlerBody(`
  const secret = (await secrets.getSecretValue({ SecretId: event.secretId })).SecretString;
  const key = await kms.generateDataKey({ KeyId: event.keyId, NumberOfBytes: 32 });
  const plaintext = (await kms.decrypt({ CiphertextBlob: key.CiphertextBlob })).Plaintext;
  const token = await signer.getAuthToken();`)}`;

/**
 * The same handler: the SDK's clients, ours, and ours at the baseline revision (same code, its
 * `src/`). All take region, endpoints and keys from the environment.
 */
const variants = {
  sdk: `
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Signer } from "@aws-sdk/rds-signer";
const kms = new KMSClient({});
const secrets = new SecretsManagerClient({});
const signer = new Signer({ hostname: "db.example.internal", port: 5432, username: "veil_app" });
${handlerBody(`
  const secret = (await secrets.send(new GetSecretValueCommand({ SecretId: event.secretId }))).SecretString;
  const key = await kms.send(new GenerateDataKeyCommand({ KeyId: event.keyId, NumberOfBytes: 32 }));
  const plaintext = (await kms.send(new DecryptCommand({ CiphertextBlob: key.CiphertextBlob }))).Plaintext;
  const token = await signer.getAuthToken();`)}`,
  veil: veilHandler,
  baseline: veilHandler,
} as const;
type Variant = keyof typeof variants;

const best = (values: number[]) => Math.min(...values);

const labels: Record<Variant, string> = {
  sdk: "AWS SDK v3 clients",
  veil: "@veil/aws",
  baseline: "@veil/aws at the baseline",
};

const bench: BenchModule = {
  name: "aws-clients",
  description: "AWS SDK v3 clients vs @veil/aws in a KMS + Secrets Manager + RDS token handler",
  async run({ quick, log, flags }) {
    const dir = mkdtempSync(join(tmpdir(), "veil-bench-aws-"));
    const ref = baselineRef(flags);
    const names = (Object.keys(variants) as Variant[]).filter((n) => n !== "baseline" || ref !== undefined);
    const region = "eu-central-2";
    const app = { id: "AKIAPROBE00000000001", secret: "probe-secret" };
    const appArn = "arn:aws:iam::111122223333:role/probe";
    const kms = await startLocalKms({
      stateDir: join(dir, "kms"),
      region,
      accountId: "111122223333",
      principals: { [app.id]: { secret: app.secret, arn: appArn } },
    });
    const secrets = await startLocalSecrets({
      stateDir: join(dir, "secrets"),
      region,
      principals: (id) => (id === app.id ? { secret: app.secret, arn: appArn } : undefined),
    });
    try {
      const keyId = kms.createKey({ policy: keyPolicy({ admins: [appArn], users: [appArn] }) });
      const secretId = await secrets.define("veil/bench/aws", { readers: [appArn], writers: [] }, "value");
      const env = {
        AWS_REGION: region,
        AWS_ACCESS_KEY_ID: app.id,
        AWS_SECRET_ACCESS_KEY: app.secret,
        AWS_ENDPOINT_URL_KMS: kms.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_LAMBDA_FUNCTION_NAME: "veil-bench-aws-clients",
        VEIL_PROBE_EVENT: JSON.stringify({ keyId, secretId }),
      };

      const outfiles = {} as Record<Variant, string>;
      const metrics: Record<string, Metric> = {};
      for (const name of names) {
        outfiles[name] = join(dir, name, "index.mjs");
        // The baseline's sources are needed only while its bundle is built.
        const base = name === "baseline" && ref !== undefined ? extractBaseline(ref) : undefined;
        try {
          await build({
            ...productionOptions,
            stdin: {
              contents: variants[name],
              resolveDir: base?.awsDir ?? resolveDir,
              sourcefile: `${name}.ts`,
              loader: "ts",
            },
            outfile: outfiles[name],
          });
        } finally {
          base?.remove();
        }
        metrics[`aws_clients_${name}_bundle_kb`] = {
          value: round(statSync(outfiles[name]).size / 1024, 1),
          unit: "KB",
          note: `${labels[name]}${name === "baseline" ? ` (${ref})` : ""}: KMS + Secrets Manager + RDS token handler, production build`,
        };
      }

      const runs = quick ? 3 : 10;
      log(`cold starts: ${runs} fresh processes per variant, alternated…`);
      const results: Record<Variant, ProbeResult[]> = { sdk: [], veil: [], baseline: [] };
      for (let i = 0; i < runs; i++) {
        for (const name of names) {
          const r = await runProbe(outfiles[name], env);
          if (!r.exported || r.firstStatus !== 200) throw new Error(`${name}: ${JSON.stringify(r)}`);
          results[name].push(r);
        }
      }
      for (const name of names) {
        const rs = results[name];
        const cold = rs.map((r) => r.importCpuMs + (r.firstInvokeCpuMs ?? 0));
        metrics[`aws_clients_${name}_init_ms`] = {
          value: round(median(rs.map((r) => r.importMs)), 1),
          unit: "ms",
          note: `median of ${runs} fresh Node ${process.versions.node} processes: import → clients built`,
        };
        metrics[`aws_clients_${name}_init_cpu_ms`] = {
          value: round(median(rs.map((r) => r.importCpuMs)), 1),
          unit: "ms",
          note: "same, CPU time of the import",
        };
        metrics[`aws_clients_${name}_first_call_ms`] = {
          value: round(median(rs.map((r) => r.firstInvokeMs ?? 0)), 1),
          unit: "ms",
          note: "first invocation: GetSecretValue + GenerateDataKey + Decrypt (local stand-ins) + RDS token",
        };
        metrics[`aws_clients_${name}_first_call_cpu_ms`] = {
          value: round(median(rs.map((r) => r.firstInvokeCpuMs ?? 0)), 1),
          unit: "ms",
          note: "same, CPU time of this process (the stand-ins run in the bench process)",
        };
        metrics[`aws_clients_${name}_cold_cpu_ms`] = {
          value: round(median(cold), 1),
          unit: "ms",
          note: "import + first invocation, CPU: what a cold start costs the function",
        };
        metrics[`aws_clients_${name}_init_cpu_best_ms`] = {
          value: round(best(rs.map((r) => r.importCpuMs)), 1),
          unit: "ms",
          note: "import CPU, best process",
        };
        metrics[`aws_clients_${name}_first_call_cpu_best_ms`] = {
          value: round(best(rs.map((r) => r.firstInvokeCpuMs ?? 0)), 1),
          unit: "ms",
          note: "first invocation CPU, best process",
        };
        metrics[`aws_clients_${name}_cold_cpu_best_ms`] = {
          value: round(best(cold), 1),
          unit: "ms",
          note: "import + first invocation CPU, best process",
        };
        metrics[`aws_clients_${name}_second_call_ms`] = {
          value: round(median(rs.map((r) => r.secondInvokeMs ?? 0)), 2),
          unit: "ms",
          note: "second invocation, same calls",
        };
      }
      return metrics;
    } finally {
      await kms.stop();
      await secrets.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
