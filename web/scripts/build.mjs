#!/usr/bin/env node
// Builds the web app into web/dist, or does nothing when dist is up to date with its inputs.
//   node web/scripts/build.mjs              build if stale
//   node web/scripts/build.mjs --force      always build
//   node web/scripts/build.mjs --now --out DIR   (internal) build in this process
// `pnpm dev` runs it before starting the local stack, so a fresh clone serves the app.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = join(webDir, "..");
const stampName = ".veil-build.json";

/**
 * Files whose change means a new build: the app, its config, what it bundles of the workspace (the
 * core package, the upload encryptor of the storage package), the lock.
 */
function inputFiles() {
  const files = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.test\.tsx?$/.test(name)) files.push(path);
    }
  };
  for (const f of ["index.html", "vite.config.ts", "package.json"]) files.push(join(webDir, f));
  walk(join(webDir, "src"));
  walk(join(webDir, "public"));
  walk(join(repoRoot, "packages/core/src"));
  walk(join(repoRoot, "packages/storage/src/upload"));
  files.push(join(repoRoot, "pnpm-lock.yaml"));
  return files.filter((f) => existsSync(f));
}

/** One hash over the names and contents of the inputs. */
export function inputsHash() {
  const hash = createHash("sha256");
  for (const file of inputFiles()) {
    hash.update(relative(repoRoot, file));
    hash.update("\0");
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** True when `outDir` holds a build of exactly the current inputs. */
export function isFresh(outDir = join(webDir, "dist")) {
  try {
    const stamp = JSON.parse(readFileSync(join(outDir, stampName), "utf8"));
    return existsSync(join(outDir, "index.html")) && stamp.inputs === inputsHash();
  } catch {
    return false;
  }
}

/**
 * Builds the app into `outDir` (default web/dist) unless it is fresh. The build runs in its own
 * process with NODE_ENV=production (a test runner's NODE_ENV=test would give React's development
 * build), into a temporary folder that is then swapped in, so a server never sees half a build.
 * @returns whether a build ran, and how long it took
 */
export async function ensureWebBuilt({ force = false, outDir = join(webDir, "dist"), quiet = false } = {}) {
  if (!force && isFresh(outDir)) return { built: false, ms: 0, outDir };
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--now", "--out", outDir], {
      cwd: webDir,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: quiet ? ["ignore", "ignore", "inherit"] : "inherit",
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`web build exited with ${code}`))));
  });
  return { built: true, ms: Date.now() - started, outDir };
}

/** The build itself, in this process. */
async function buildNow(outDir) {
  const inputs = inputsHash();
  const tmp = `${outDir}.tmp-${process.pid}`;
  const { build } = await import("vite");
  try {
    await build({
      root: webDir,
      mode: "production",
      configFile: join(webDir, "vite.config.ts"),
      build: { outDir: tmp, emptyOutDir: true },
    });
    writeFileSync(join(tmp, stampName), `${JSON.stringify({ inputs })}\n`);
    const old = `${outDir}.old-${process.pid}`;
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(tmp, outDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf("--out");
  const outDir = outIndex >= 0 && args[outIndex + 1] ? args[outIndex + 1] : join(webDir, "dist");
  const run = args.includes("--now")
    ? buildNow(outDir).then(() => ({ built: true, ms: 0, outDir }))
    : ensureWebBuilt({ force: args.includes("--force"), outDir });
  run.then(
    (r) => {
      if (!args.includes("--now")) {
        process.stdout.write(
          r.built
            ? `web app built in ${r.ms} ms: ${relative(process.cwd(), r.outDir)}\n`
            : "web app is up to date\n",
        );
      }
    },
    (err) => {
      console.error(`web build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
