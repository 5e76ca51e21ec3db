import { beforeAll, describe, expect, it } from "vitest";
import { functionNames, manifest } from "../../functions/manifest.ts";
import { resourceName } from "../functions.ts";
import { maskedDataIdentifiers } from "../logs.ts";
import { homeRegion } from "../stage.ts";
import { type Stack, synthesize } from "./harness.ts";
import { bucketArn, stackHelpers, T } from "./stack-helpers.ts";
import { codeSigning, type SharedStack, sharedStack, sharedStages } from "./stages.ts";

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

/**
 * Logs, tracing, alarms and the trail (observability.ts, logs.ts) on each shared stage.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  let logsKeyArn: string;
  const { stage, bucketByPrefix } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
    logsKeyArn = String(s.get(T.key, "LogsKey").state.arn);
  }, 120_000);

  describe(`${stageName}: observability`, () => {
    it("encrypts every log group with the logs key, keeps the stage's retention and masks identifiers", () => {
      const groups = s.ofType(T.logGroup);
      expect(groups.length).toBeGreaterThanOrEqual(6);
      const masked = new Set(s.ofType(T.dataProtection).map((p) => p.inputs.logGroupName));
      const edgeLogsKeyArn = String(s.get(T.key, "EdgeLogsKey").state.arn);
      for (const g of groups) {
        expect(g.inputs.kmsKeyId, g.name).toBe(g.region === homeRegion ? logsKeyArn : edgeLogsKeyArn);
        expect(g.inputs.retentionInDays, g.name).toBe(stage.logs.retentionDays);
        expect(masked.has(g.inputs.name), g.name).toBe(true);
      }
      const doc = JSON.parse(s.ofType(T.dataProtection)[0]!.inputs.policyDocument);
      const redact = doc.Statement.find(
        (st: { Operation: { Deidentify?: unknown } }) => st.Operation.Deidentify,
      );
      expect(redact.DataIdentifier).toHaveLength(maskedDataIdentifiers.length);
      expect(redact.DataIdentifier).toContain("arn:aws:dataprotection::aws:data-identifier/EmailAddress");
    });

    it("traces the handlers with Powertools bundled and configured by environment, never capturing payloads", () => {
      for (const name of functionNames.map((f) => `${resourceName(manifest[f])}Function`)) {
        const fn = s.get(T.lambda, name).inputs;
        expect(fn.tracingConfig, name).toEqual({ mode: "Active" });
        expect(fn.runtime).toBe("nodejs22.x");
        // Powertools is bundled (the measured bundle is the deployed one): no layer to drift from it.
        expect(fn.layers ?? [], name).toEqual([]);
        expect(fn.environment.variables).toMatchObject({
          POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
          POWERTOOLS_TRACER_CAPTURE_ERROR: "false",
          POWERTOOLS_LOGGER_LOG_EVENT: "false",
        });
        expect(fn.role).toMatch(/^arn:aws:iam::\d+:role\/veil-/);
        expect(fn.codeSigningConfigArn, name).toBe(stageName === "prod" ? codeSigning : undefined);
      }
    });

    it("alarms on API 5xx, throttles and KMS errors", () => {
      const alarms = s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.metricName);
      expect(alarms).toEqual(
        expect.arrayContaining(["5XXError", "Throttles", "KmsErrors", "KeyPolicyChanges"]),
      );
      for (const a of s.ofType("aws:cloudwatch/metricAlarm:MetricAlarm"))
        expect(a.inputs.alarmActions).toHaveLength(1);
      const filter = s.get("aws:cloudwatch/logMetricFilter:LogMetricFilter", "KmsErrorsFilter").inputs
        .pattern;
      expect(filter).toContain("kms.amazonaws.com");
      expect(filter).toContain("errorCode");
    });

    it("trails management (all KMS calls) and the buckets' data events into a separate archive", () => {
      const trail = s.get("aws:cloudtrail/trail:Trail", "AuditTrail").inputs;
      expect(trail.enableLogFileValidation).toBe(true);
      expect(trail.kmsKeyId).toBe(logsKeyArn);
      const archive = bucketByPrefix("log-archive");
      expect(trail.s3BucketName).toBe(archive.id);
      for (const other of ["images", "inbox", "access-logs"])
        expect(bucketByPrefix(other).id).not.toBe(archive.id);
      const selectors = trail.advancedEventSelectors;
      expect(selectors[0].fieldSelectors).toEqual([{ field: "eventCategory", equals: ["Management"] }]);
      const data = selectors[1].fieldSelectors.find(
        (f: { field: string }) => f.field === "resources.ARN",
      ).startsWiths;
      expect(data.sort()).toEqual(
        [`${bucketArn(bucketByPrefix("images"))}/`, `${bucketArn(bucketByPrefix("inbox"))}/`].sort(),
      );
    });
  });
}
