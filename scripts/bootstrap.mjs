#!/usr/bin/env node
// The two quick-start commands (`npm run dev`, `npm test`) land here on a fresh machine that has only
// Node, npm and apt: install pnpm (pinned by `packageManager`, via corepack), the workspace, and the
// system packages a mode needs, then hand over to the real pnpm script. Idempotent and quick when warm.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const mode = process.argv[2] ?? "test";
const targets = { dev: "dev:local", test: "test:all", bench: "bench:run" };
const target = targets[mode];
if (!target) {
  console.error(`usage: bootstrap.mjs ${Object.keys(targets).join("|")}`);
  process.exit(2);
}

const env = { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: "0" };
const pnpm = (args, opts = {}) =>
  spawnSync("corepack", ["pnpm", ...args], { cwd: root, env, stdio: "inherit", ...opts });

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

// 1. The workspace's node packages.
const installed = join(root, "node_modules", ".modules.yaml");
if (
  mtime(installed) < mtime(join(root, "pnpm-lock.yaml")) ||
  mtime(installed) < mtime(join(root, "package.json"))
) {
  const frozen = process.env.CI ? ["--frozen-lockfile"] : [];
  const r = pnpm(["install", ...frozen]);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// 2. System packages from Debian, only for the modes that need them.
function hasPostgres() {
  const base = "/usr/lib/postgresql";
  return existsSync(base) && readdirSync(base).some((v) => existsSync(join(base, v, "bin", "postgres")));
}
function hasChromium() {
  return existsSync("/usr/bin/chromium");
}
const needs = [];
if (mode === "test" || mode === "bench") {
  if (!hasPostgres()) needs.push("postgresql");
  if (existsSync(join(root, "web", "e2e")) && !hasChromium()) needs.push("chromium");
  // OpenStack Swift with s3api: the versioned, signature-checking S3 of the storage and image tests.
  const swift = ["swift", "swift-proxy", "swift-object", "swift-container", "swift-account"];
  if (!swift.every((p) => existsSync(`/usr/bin/${p === "swift" ? "swift-ring-builder" : `${p}-server`}`))) {
    needs.push(...swift, "memcached");
  }
}
if (needs.length > 0) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const run = (cmd) => {
    const [file, ...args] = isRoot ? cmd : ["sudo", "-n", ...cmd];
    execFileSync(file, args, { stdio: "inherit", env: { ...env, DEBIAN_FRONTEND: "noninteractive" } });
  };
  console.error(`installing Debian packages: ${needs.join(" ")}`);
  try {
    run(["apt-get", "update", "-qq"]);
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...needs]);
  } catch {
    console.error(
      `could not install ${needs.join(" ")}: run 'apt-get install ${needs.join(" ")}' as root, then retry`,
    );
    process.exit(1);
  }
}

// 3. The real work. Workspace scripts call `pnpm` by name; where corepack has not put a `pnpm` on the
// PATH (corepack without `enable`), a shim in node_modules hands those calls to corepack too.
const onPath = (name) => (env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, name)));
if (!onPath("pnpm")) {
  const shimDir = join(root, "node_modules", ".veil-bin");
  mkdirSync(shimDir, { recursive: true });
  const shim = join(shimDir, "pnpm");
  writeFileSync(shim, '#!/bin/sh\nexec corepack pnpm "$@"\n');
  chmodSync(shim, 0o755);
  env.PATH = `${shimDir}:${env.PATH ?? ""}`;
}
const r = pnpm(["run", target, ...process.argv.slice(3)]);
process.exit(r.status ?? 1);
