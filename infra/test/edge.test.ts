import { beforeAll, describe, expect, it } from "vitest";
import { edgeDeleteTimeout } from "../edge.ts";
import { maskedDataIdentifiers } from "../logs.ts";
import { edgeRegion, stageConfig } from "../stage.ts";
import { type Stack, synthesize } from "./harness.ts";

const asArray = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const hours = (t: string) =>
  Number(/^(\d+)h$/.exec(t)?.[1] ?? /^(\d+)m$/.exec(t)?.[1] ?? 0) / (t.endsWith("m") ? 60 : 1);

/** The Lambda@Edge signer (edge.ts): its deletion and its logs. */
describe("edge: the Lambda@Edge signer", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize("prod");
  }, 120_000);

  it("waits for CloudFront to remove the replicas when it is deleted", () => {
    const fn = s.get("aws:lambda/function:Function", "EdgeSigner");
    expect(fn.opts.customTimeouts?.delete).toBe(edgeDeleteTimeout);
    expect(hours(edgeDeleteTimeout)).toBeGreaterThanOrEqual(3);
  });

  it("logs only into encrypted, retained, masked groups it may not create itself", () => {
    const name = "veil-prod-edge-signer";
    const key = s.get("aws:kms/key:Key", "EdgeLogsKey");
    expect(key.region).toBe(edgeRegion);
    const groups = s.ofType("aws:cloudwatch/logGroup:LogGroup").filter((g) => g.region === edgeRegion);
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(
      [`/aws/lambda/${name}`, `/aws/lambda/${edgeRegion}.${name}`].sort(),
    );
    const masked = s.ofType("aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy");
    for (const g of groups) {
      expect(g.inputs.kmsKeyId, g.name).toBe(key.state.arn);
      expect(g.inputs.retentionInDays, g.name).toBe(stageConfig("prod").logs.retentionDays);
      const policy = masked.find((p) => p.inputs.logGroupName === g.inputs.name);
      expect(policy?.region, g.name).toBe(edgeRegion);
      const redact = JSON.parse(policy!.inputs.policyDocument).Statement.find(
        (st: { Operation: { Deidentify?: unknown } }) => st.Operation.Deidentify,
      );
      expect(redact.DataIdentifier).toHaveLength(maskedDataIdentifiers.length);
    }
    const statements = JSON.parse(s.get("aws:iam/rolePolicy:RolePolicy", "EdgeSignerPolicy").inputs.policy)
      .Statement as { Action: string | string[]; Resource: string | string[] }[];
    const logs = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith("logs:")));
    expect(logs.flatMap((st) => asArray(st.Action)).sort()).toEqual([
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]);
    expect(logs.flatMap((st) => asArray(st.Resource)).sort()).toEqual(
      groups.map((g) => `${g.state.arn}:*`).sort(),
    );
  });
});
