import { fileURLToPath } from "node:url";
import type { TestProjectConfiguration } from "vitest/config";

/**
 * The test projects of the workspace. Vitest >= 4 ignores this file on its own, so `vitest.config.ts`
 * imports it; keep every project listed here.
 */
const unit = (name: string, root: string): TestProjectConfiguration => ({
  test: { name, root, include: ["**/*.test.ts"], exclude: ["**/node_modules/**", "**/*.int.test.ts"] },
});

/** Builds the function bundles the local stack runs, once per run (test flavour). */
const functionBundles = fileURLToPath(
  new URL("./packages/local/src/stack/bundles.global-setup.ts", import.meta.url),
);

export const projects: TestProjectConfiguration[] = [
  unit("core", "packages/core"),
  unit("crypto", "packages/crypto"),
  unit("log", "packages/log"),
  unit("db", "packages/db"),
  unit("storage", "packages/storage"),
  unit("aws", "packages/aws"),
  unit("local", "packages/local"),
  unit("functions", "functions"),
  unit("edge", "edge"),
  "infra/vitest.config.ts",
  unit("repo", "scripts"),
  // The benchmarks' report renderer (no timing: the benchmarks themselves run with `pnpm bench`).
  unit("bench", "bench"),
  { test: { name: "web", root: "web", include: ["src/**/*.test.ts"], exclude: ["**/node_modules/**"] } },
  // The web app in Chromium against a whole local stack (builds web/dist when stale).
  {
    test: {
      name: "web-e2e",
      root: "web",
      include: ["e2e/**/*.test.ts"],
      exclude: ["**/node_modules/**"],
      globalSetup: [functionBundles],
      testTimeout: 180_000,
      hookTimeout: 180_000,
      fileParallelism: false,
    },
  },
  // The whole local stack end to end: real PostgreSQL, real servers, the functions' bundles, one test
  // file at a time.
  {
    test: {
      name: "integration",
      root: "packages/local",
      include: ["**/*.int.test.ts"],
      exclude: ["**/node_modules/**"],
      globalSetup: [functionBundles],
      testTimeout: 120_000,
      hookTimeout: 180_000,
      fileParallelism: false,
    },
  },
];

export default projects;
