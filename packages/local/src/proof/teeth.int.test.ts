/**
 * Tests with teeth: for each control, a local stack runs with that one control switched off, and the
 * control's security check (the one controls.int.test.ts shows passing) must now fail. A control whose
 * removal no test notices would not be tested at all.
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { securityChecks } from "./checks.ts";
import { controlNames, TestSwitchRefusedError, testStackSettings } from "./controls.ts";
import { startProofStack } from "./harness.ts";
import { recordResult } from "./results.ts";

let pgServer: TestPostgres;
let caught = 0;

beforeAll(async () => {
  pgServer = await startTestPostgres();
});

afterAll(async () => {
  recordResult({ section: "teeth", counts: { controls: controlNames.length, caught } });
  await pgServer?.stop();
});

describe("switching off any one control makes its security check fail", () => {
  for (const control of controlNames) {
    it(`${control} off: "${securityChecks[control].title}" fails`, async () => {
      const p = await startProofStack({ databaseUrl: pgServer.connectionString, disableControl: control });
      try {
        const findings = await securityChecks[control].run(p);
        expect(findings.length, `${control} off went unnoticed`).toBeGreaterThan(0);
        caught += 1;
      } finally {
        await p.stop();
      }
    });
  }
});

describe("the switches are refused outside a test run", () => {
  it("a stack asked to switch a control off outside Vitest refuses to start", () => {
    for (const control of controlNames) {
      expect(() => testStackSettings({ disableControl: control }, {})).toThrow(TestSwitchRefusedError);
    }
    expect(() => testStackSettings({ logProbe: true }, { NODE_ENV: "production" })).toThrow(
      TestSwitchRefusedError,
    );
    expect(testStackSettings(undefined, {}).functionEnv).toEqual({});
  });
});
