import { beforeAll, describe, expect, it } from "vitest";
import { type Stack, synthesize } from "./harness.ts";
import { lambdaReferenceCount, unorderedLambdaReferences } from "./lambda-references.ts";

/** Functions (functions.ts) and everything that names them, on a deployed stage. */
describe("functions: whatever names a function waits for it", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize("sit");
  }, 120_000);

  it("orders every resource naming a Lambda function (by name or ARN, in any input) after it", () => {
    // Permissions, event-invoke configs, S3 notifications, API integrations, schedules, alarms,
    // deploy-time invocations, the distribution's edge association.
    expect(lambdaReferenceCount(s)).toBeGreaterThanOrEqual(20);
    expect(unorderedLambdaReferences(s)).toEqual([]);
  });
});
