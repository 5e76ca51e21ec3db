#!/usr/bin/env node
// Makes `.sst/platform` (the SST platform source, its Pulumi packages and `config.d.ts`) without AWS
// credentials or GitHub: `sst install` normally downloads Pulumi and bun first, which these switches skip.
// Idempotent: does nothing when the platform already matches the pinned `sst` version.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const infra = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(infra, "..");
const platform = join(root, ".sst", "platform");

const wanted = JSON.parse(readFileSync(join(infra, "node_modules", "sst", "package.json"), "utf8")).version;
const have = existsSync(join(platform, "version"))
  ? readFileSync(join(platform, "version"), "utf8").trim()
  : "";
const complete = [
  "config.d.ts",
  "node_modules/@pulumi/pulumi/package.json",
  "node_modules/@pulumi/aws/package.json",
]
  .map((p) => join(platform, p))
  .every((p) => existsSync(p));

if (have === wanted && complete && !process.argv.includes("--force")) process.exit(0);

console.error(`preparing .sst/platform for sst ${wanted} (was: ${have || "none"})`);
const env = {
  ...process.env,
  SST_SKIP_DEPENDENCY_CHECK: "1",
  SST_NO_BUN: "1",
  SST_TELEMETRY_DISABLED: "1",
  XDG_CONFIG_HOME: join(root, ".sst-home"),
  // `sst install` evaluates the app; the stack refuses undeclared stages.
  VEIL_PERSONAL_STAGE: "ci",
};
const sst = join(infra, "node_modules", ".bin", "sst");
const r = spawnSync(sst, ["install", "--stage", "ci"], { cwd: root, env, stdio: "inherit" });
if (r.status !== 0) {
  console.error("sst install failed; see the output above");
  process.exit(r.status ?? 1);
}
const after = existsSync(join(platform, "version"))
  ? readFileSync(join(platform, "version"), "utf8").trim()
  : "";
if (after !== wanted) {
  console.error(`.sst/platform reports version ${after || "none"}, expected ${wanted}`);
  process.exit(1);
}
