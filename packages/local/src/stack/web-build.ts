import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/**
 * Builds the web app into `web/dist` when it is missing or older than its sources (the web package's
 * own `scripts/build.mjs` decides and builds, in a child process), so `pnpm dev` on a fresh clone
 * serves the app. Resolves `false` when the build failed: the stack can still run without the app.
 */
export function ensureWebBuilt(root: string = repoRoot): Promise<boolean> {
  const script = join(root, "web", "scripts", "build.mjs");
  if (!existsSync(script)) return Promise.resolve(false);
  return new Promise((done) => {
    const child = spawn(process.execPath, [script], { cwd: join(root, "web"), stdio: "inherit" });
    child.on("error", () => done(false));
    child.on("exit", (code) => done(code === 0));
  });
}
