/**
 * Every security control of the request path, checked end to end on one local stack over a real
 * PostgreSQL. The same checks run in teeth.int.test.ts with each control switched off, where they fail.
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { securityChecks } from "./checks.ts";
import { controlNames } from "./controls.ts";
import { type ProofStack, startProofStack } from "./harness.ts";
import { recordResult } from "./results.ts";

let pgServer: TestPostgres;
let p: ProofStack;
let passed = 0;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  p = await startProofStack({ databaseUrl: pgServer.connectionString });
});

afterAll(async () => {
  recordResult({ section: "controls", counts: { checked: controlNames.length, passed } });
  await p?.stop();
  await pgServer?.stop();
});

describe("every control holds on the local stack", () => {
  for (const control of controlNames) {
    it(`${control}: ${securityChecks[control].title}`, async () => {
      expect(await securityChecks[control].run(p)).toEqual([]);
      passed += 1;
    });
  }

  it("no canary planted by the checks above crossed either hop in clear (answers at CloudFront, both ways past it)", () => {
    expect(p.leaks()).toEqual([]);
  });
});
