import { defineProject } from "vitest/config";

/**
 * The infra project: Pulumi-mock tests load the SST platform and @pulumi/aws (large), so they get a
 * longer timeout and the RPC stub of test/setup.ts. Each stack test file evaluates one stage in its
 * own worker (Pulumi's mock monitor is process-global).
 */
export default defineProject({
  test: {
    name: "infra",
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.int.test.ts"],
    setupFiles: ["./test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    isolate: true,
  },
});
