import { defineProject } from "vitest/config";

/**
 * The infra project: Pulumi-mock tests load the SST platform and @pulumi/aws (large), so they get a
 * longer timeout and the RPC stub of test/setup.ts. Each test file runs in its own worker (Pulumi's mock
 * monitor is process-global); the shared stages' stacks are synthesized once per run and shared through
 * a cache folder (test/stages.ts `sharedStack`, test/stack-cache.global-setup.ts).
 */
export default defineProject({
  test: {
    name: "infra",
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.int.test.ts"],
    setupFiles: ["./test/setup.ts"],
    globalSetup: ["./test/stack-cache.global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    isolate: true,
  },
});
