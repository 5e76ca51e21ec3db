/**
 * `pnpm smoke --stage <stage> [--outputs .sst/outputs.json]`: post-deploy checks against a real
 * deployment (see checks.ts). Reads the API host from the outputs `sst deploy` wrote; the site URL
 * from the outputs or the stage config. Needs network and a deployed stage; never runs in CI here.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
// The one Node client of the API protocol (DPoP proofs, sealed answers); a dev tool, never deployed.
import { createApiClient } from "../../packages/local/src/client/index.ts";
import { stageConfig } from "../stage.ts";
import { type Fetch, runSmoke } from "./run.ts";

const { values } = parseArgs({
  options: { stage: { type: "string" }, outputs: { type: "string" } },
  allowPositionals: true,
});
if (!values.stage) {
  console.error("usage: pnpm smoke --stage <dev|sit|prod|personal> [--outputs <file>]");
  process.exit(2);
}
const file = values.outputs ?? join(process.cwd(), ".sst", "outputs.json");
if (!existsSync(file)) {
  console.error(`no outputs at ${file}: run 'sst deploy --stage ${values.stage}' first (or pass --outputs)`);
  process.exit(2);
}
const outputs = JSON.parse(readFileSync(file, "utf8")) as {
  url?: string;
  apiHost?: string;
  apiStage?: string;
};
if (!outputs.apiHost || !outputs.apiStage) {
  console.error(`${file} has no apiHost/apiStage: was it written by this stack?`);
  process.exit(2);
}
const target = {
  url: outputs.url ?? `https://${stageConfig(values.stage, process.env).domain}`,
  apiBase: `https://${outputs.apiHost}/${outputs.apiStage}`,
};
/** Signed-in calls as the browser makes them: one session key for the run, answers opened. */
const client = createApiClient();
const apiFetch: Fetch = (url, init = {}) => {
  const { authorization, ...headers } = init.headers ?? {};
  const token = authorization?.replace(/^Bearer /, "");
  return client.fetch(url, { ...init, headers, ...(token ? { token } : {}) });
};
const verdicts = await runSmoke({
  fetch,
  apiFetch,
  target,
  token: process.env.VEIL_SMOKE_TOKEN,
  runId: randomUUID().slice(0, 8),
});
for (const v of verdicts) process.stdout.write(`${v.ok ? "PASS" : "FAIL"} ${v.name}: ${v.detail}\n`);
const failed = verdicts.filter((v) => !v.ok).length;
process.stdout.write(`${verdicts.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
