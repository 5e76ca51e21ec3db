/**
 * The test switches must not exist in a deployed function: bundle the records handler as production
 * does (esbuild, ESM, minified, `__VEIL_TEST_SWITCHES__` defined false) and look for any trace of them.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { disableControlEnv, logProbeEnv } from "./test-switches.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "../../..");

async function bundle(define: Record<string, string>): Promise<string> {
  const out = await build({
    entryPoints: [join(here, "handler.ts")],
    bundle: true,
    write: false,
    minify: true,
    platform: "node",
    target: "node22",
    format: "esm",
    external: ["@aws-lambda-powertools/*", "pg-native"],
    define,
    logLevel: "silent",
  });
  return out.outputFiles[0]?.text ?? "";
}

/** Strings that only the switch code contains. */
const traces = [disableControlEnv, logProbeEnv, "test probe", "__VEIL_TEST_SWITCHES__", "OR TRUE"];

describe("test switches in the production bundle", () => {
  it("are absent when the switch constant is defined false, as in production", async () => {
    const code = await bundle({ __VEIL_TEST_SWITCHES__: "false" });
    expect(code.length).toBeGreaterThan(10_000);
    // Names like "idempotency" also occur in real code; the strings below only in the switches.
    for (const t of traces) expect(code.includes(t), t).toBe(false);
  }, 60_000);

  it("are present when it is not (so the check above can see them)", async () => {
    const code = await bundle({ __VEIL_TEST_SWITCHES__: "true" });
    expect(code.includes(disableControlEnv)).toBe(true);
    expect(code.includes("test probe")).toBe(true);
  }, 60_000);

  it("the deployed functions are built with the define", () => {
    const infra = readFileSync(join(repoRoot, "infra/functions.ts"), "utf8");
    expect(infra).toMatch(/__VEIL_TEST_SWITCHES__:\s*"false"/);
  });
});
