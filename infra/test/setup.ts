/**
 * Vitest setup of the infra project: replaces the SST platform's RPC client (which talks to the SST CLI
 * during a real deploy) with answers that need no CLI, no network and no AWS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, vi } from "vitest";

// One scratch folder per test file for stand-in bundles and SST work dirs, removed afterwards.
const scratch = mkdtempSync(join(tmpdir(), "veil-infra-"));
process.env.VEIL_INFRA_SCRATCH = scratch;
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

vi.mock("../../.sst/platform/src/components/rpc/rpc.ts", () => {
  const call = async (method: string, args: { functionID?: string } | undefined) => {
    switch (method) {
      case "Runtime.Build": {
        // Kept for the tests: what SST would bundle (handler, links) per function.
        const g = globalThis as { __veilBuilds?: Record<string, unknown> };
        g.__veilBuilds ??= {};
        g.__veilBuilds[String(args?.functionID)] = args;
        // A stand-in bundle: SST zips whatever folder the build returns.
        const out = mkdtempSync(join(process.env.VEIL_INFRA_SCRATCH ?? tmpdir(), "build-"));
        mkdirSync(out, { recursive: true });
        writeFileSync(join(out, "handler.mjs"), "export const handler = async () => ({});\n");
        return { handler: "handler.handler", out, errors: [], sourcemaps: [], input: args };
      }
      case "Provider.Aws.Appsync":
        // The endpoints of SST's AppSync Events API for `sst dev` (made by the CLI in a real session).
        return {
          http: "devapi0123456789abcdefghij.appsync-api.eu-central-2.amazonaws.com",
          realtime: "devapi0123456789abcdefghij.appsync-realtime-api.eu-central-2.amazonaws.com",
        };
      case "Provider.Aws.Bootstrap":
        return { asset: "sst-asset-test", assetEcrRegistryId: "", assetEcrUrl: "", state: "sst-state-test" };
      default:
        return {};
    }
  };
  class MethodNotFoundError extends Error {}
  class Provider {}
  return { rpc: { call, MethodNotFoundError, Provider } };
});
