#!/usr/bin/env node
// Builds the web app into web/dist, or does nothing when dist is up to date with its inputs.
//   node web/scripts/build.mjs              build if stale
//   node web/scripts/build.mjs --force      always build
// `pnpm dev` runs it before starting the local stack, so a fresh clone serves the app.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = join(webDir, "..");
const stampName = ".veil-build.json";

/** Files whose change means a new build: the app, its config, the core package it bundles, the lock. */
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
 * Builds the app into `outDir` (default web/dist) unless it is fresh. Builds into a temporary folder
 * and swaps it in, so a server reading the old build never sees half a new one.
 * @returns whether a build ran, and how long it took
 */
export async function ensureWebBuilt({ force = false, outDir = join(webDir, "dist"), quiet = false } = {}) {
  if (!force && isFresh(outDir)) return { built: false, ms: 0, outDir };
  const started = Date.now();
  const inputs = inputsHash();
  const tmp = `${outDir}.tmp-${process.pid}`;
  const { build } = await import("vite");
  try {
    await build({
      root: webDir,
      configFile: join(webDir, "vite.config.ts"),
      logLevel: quiet ? "warn" : "info",
      build: { outDir: tmp, emptyOutDir: true },
    });
    writeFileSync(join(tmp, stampName), `${JSON.stringify({ inputs, builtAt: new Date().toISOString() })}\n`);
    const old = `${outDir}.old-${process.pid}`;
    if (existsSync(outDir)) renameSync(outDir, old);
    renameSync(tmp, outDir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { built: true, ms: Date.now() - started, outDir };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes("--force");
  ensureWebBuilt({ force }).then(
    (r) => {
      process.stdout.write(
        r.built
          ? `web app built in ${r.ms} ms: ${relative(process.cwd(), r.outDir)}\n`
          : "web app is up to date\n",
      );
    },
    (err) => {
      console.error(`web build failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
