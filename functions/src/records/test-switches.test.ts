/**
 * The test switches must not exist in a deployed function: bundle the records handler as production
 * does (`bundleHandler`, `__VEIL_TEST_SWITCHES__` defined false) and look for any trace of them; bundle
 * it with no define at all and check that they stay off. That infra deploys with the define is checked
 * on the synthesized stacks (infra/test/functions.test.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleHandler, bundleOptions } from "../../build.ts";
import { productionDefine } from "../../manifest.ts";
import { disableControlEnv, logProbeEnv } from "./test-switches.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-switches-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Strings that only the switch code contains. */
const traces = [disableControlEnv, logProbeEnv, "test probe", "__VEIL_TEST_SWITCHES__", "OR TRUE"];

/**
 * Imports a records bundle in a fresh Node process with `logRedaction` switched off by environment,
 * sends it a request for an unknown route whose path holds an e-mail address, and returns what the
 * function logged: the redacting logger masks the address, the switch's plain logger would not.
 */
function logsWithRedactionSwitchedOff(bundle: string): string {
  const script = `
    const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
    await handler(
      { httpMethod: "GET", resource: "/canary.person@example.com", path: "/x", headers: {}, requestContext: { requestId: "r1" } },
      { awsRequestId: "a1" },
    );`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "", [disableControlEnv]: "logRedaction" },
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`the bundle failed: ${run.stderr.split("\n")[0]}`);
  // Powertools writes warnings to stderr, the switch's plain logger everything to stdout.
  return run.stdout + run.stderr;
}

describe("test switches in the production bundle", () => {
  it("are absent when the switch constant is defined false, as in production", async () => {
    const bundle = await bundleHandler("records", join(dir, "production", "index.mjs"));
    const code = readFileSync(bundle.outfile, "utf8");
    expect(code.length).toBeGreaterThan(10_000);
    // Names like "idempotency" also occur in real code; the strings below only in the switches.
    for (const t of traces) expect(code.includes(t), t).toBe(false);
  }, 60_000);

  it("are present in the test flavour (so the check above can see them), and switch a control off", async () => {
    const bundle = await bundleHandler("records", join(dir, "test", "index.mjs"), "test");
    const code = readFileSync(bundle.outfile, "utf8");
    expect(code.includes(disableControlEnv)).toBe(true);
    expect(code.includes("test probe")).toBe(true);
    expect(logsWithRedactionSwitchedOff(bundle.outfile)).toContain("canary.person@example.com");
  }, 60_000);

  it("stay off in a bundle built without the define", async () => {
    const bundle = await bundleHandler("records", join(dir, "undefined", "index.mjs"), "production", {
      define: {},
    });
    const logged = logsWithRedactionSwitchedOff(bundle.outfile);
    expect(logged).toContain("request rejected");
    expect(logged).not.toContain("canary.person@example.com");
  }, 60_000);

  it("the deployed functions are built with the define", () => {
    expect(productionDefine).toEqual({ __VEIL_TEST_SWITCHES__: "false" });
    expect(bundleOptions("production").define).toEqual(productionDefine);
    // SST builds the deployed functions: that infra hands it this define is checked on every function
    // of the synthesized stacks (infra/test/functions.test.ts).
  });
});
