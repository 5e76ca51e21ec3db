import { beforeAll, describe, expect, it } from "vitest";
import { VisibleError } from "../errors.ts";
import { appsyncApi } from "../live-dev.ts";
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

  it("grants the sst dev stub's rights only under sst dev", () => {
    const policies = s.ofType("aws:iam/rolePolicy:RolePolicy").map((p) => String(p.inputs.policy));
    expect(policies.filter((p) => p.includes("appsync:"))).toEqual([]);
  });
});

describe("live-dev: SST's AppSync Events endpoint", () => {
  it("reads the API id and region from the endpoint SST reports, and refuses anything else", () => {
    const api = { id: "abc123", region: "eu-central-2" };
    expect(appsyncApi("abc123.appsync-api.eu-central-2.amazonaws.com")).toEqual(api);
    expect(appsyncApi("https://abc123.appsync-api.eu-central-2.amazonaws.com/event")).toEqual(api);
    expect(() => appsyncApi("https://example.com/event")).toThrow(VisibleError);
  });
});
