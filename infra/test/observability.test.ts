import { beforeAll, describe, expect, it } from "vitest";
import { type Stack, synthesize } from "./harness.ts";

/** The audit trail (observability.ts). */
describe("observability: the audit trail", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize("sit");
  }, 120_000);

  it("is multi-region with global service events: IAM, STS and CloudFront calls reach it", () => {
    // Global services deliver only to multi-region trails (or trails in us-east-1); the rotation's
    // UpdateDistribution and the edge region's calls would otherwise never be recorded.
    const trail = s.get("aws:cloudtrail/trail:Trail", "AuditTrail").inputs;
    expect(trail.isMultiRegionTrail).toBe(true);
    expect(trail.includeGlobalServiceEvents).toBe(true);
  });
});
