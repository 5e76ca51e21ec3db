#!/usr/bin/env node
// Type-checks infra/ and sst.config.ts with the workspace's strict flags (infra/tsconfig.json). SST ships
// its platform as TypeScript sources (.sst/platform/src), which tsc checks with our flags too and which
// we cannot change: their diagnostics are left out; every other one fails the check.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The diagnostics of tsc's plain output that are not in SST's platform sources. */
export function ownDiagnostics(output) {
  const blocks = [];
  for (const line of output.split("\n")) {
    if (/^\S.*\(\d+,\d+\): error TS\d+/.test(line) || /^error TS\d+/.test(line)) blocks.push([line]);
    else if (line.trim() !== "" && blocks.length > 0) blocks.at(-1).push(line);
  }
  return blocks
    .filter(([first]) => !/^(\.\.\/)*\.sst[/\\]platform[/\\]/.test(first))
    .map((b) => b.join("\n"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(import.meta.url), "..", "..");
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  const run = spawnSync(process.execPath, [tsc, "-p", "infra/tsconfig.json", "--pretty", "false"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.error) throw run.error;
  const own = ownDiagnostics(`${run.stdout}${run.stderr}`);
  for (const d of own) console.error(d);
  if (own.length === 0 && run.status !== 0 && !/error TS/.test(run.stdout)) {
    console.error(run.stdout, run.stderr);
    process.exit(run.status ?? 1);
  }
  process.exit(own.length > 0 ? 1 : 0);
}
