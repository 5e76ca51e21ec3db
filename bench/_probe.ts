/**
 * Cold starts of a handler bundle in fresh `node` processes (`_init-probe.mjs`), for the modules that
 * compare cold starts (bundle.ts, aws-clients.ts). Only what a Lambda environment would have reaches
 * the process: nothing of this process's environment leaks in.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const probe = join(dirname(fileURLToPath(import.meta.url)), "_init-probe.mjs");

/** What `_init-probe.mjs` prints; the invocation fields only with `VEIL_PROBE_EVENT`. */
export interface ProbeResult {
  importMs: number;
  importCpuMs: number;
  exported: boolean;
  firstInvokeMs?: number;
  firstInvokeCpuMs?: number;
  readyMs?: number;
  readyCpuMs?: number;
  firstStatus?: number;
  secondInvokeMs?: number;
}

/** Imports `bundle` (and invokes it, with `VEIL_PROBE_EVENT` in `env`) in a fresh process. */
export function runProbe(bundle: string, env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [probe, pathToFileURL(bundle).href],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`init probe failed: ${stderr.split("\n")[0] ?? err.message}`));
        resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as ProbeResult);
      },
    );
  });
}
