import { beforeAll, describe, expect, it } from "vitest";
import { edgeDeleteTimeout } from "../edge.ts";
import { maskedDataIdentifiers } from "../logs.ts";
import { edgeRegion, homeRegion, stageConfig } from "../stage.ts";
import { type Stack, synthesize, testAccount } from "./harness.ts";
import { asArray, parse, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

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

/**
 * The Lambda@Edge signer (edge.ts) on each shared stage: its region, role, rights and bundle.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: Lambda@Edge signer`, () => {
    it("is a published us-east-1 function with a role trusted by edgelambda and lambda", () => {
      const fn = s.get(T.lambda, "EdgeSigner");
      expect(fn.region).toBe(edgeRegion);
      expect(fn.inputs).toMatchObject({ publish: true, runtime: "nodejs22.x", handler: "index.handler" });
      expect(fn.inputs.environment).toBeUndefined();
      expect(fn.inputs.layers ?? []).toEqual([]);
      expect(fn.inputs.tracingConfig).toBeUndefined();
      const trust = parse(s.get(T.role, "EdgeSignerRole").inputs.assumeRolePolicy);
      expect(trust.Statement[0].Principal.Service.sort()).toEqual([
        "edgelambda.amazonaws.com",
        "lambda.amazonaws.com",
      ]);
    });

    it("may invoke this API only", () => {
      const doc = parse(s.get(T.rolePolicy, "EdgeSignerPolicy").inputs.policy);
      const invoke = doc.Statement.filter((st) =>
        asArray(st.Action).some((a: string) => a.startsWith("execute-api:")),
      );
      expect(invoke).toHaveLength(1);
      expect(asArray(invoke[0].Action)).toEqual(["execute-api:Invoke"]);
      const apiId = String(s.outputs.apiHost).split(".")[0];
      expect(asArray(invoke[0].Resource)).toEqual([
        `arn:aws:execute-api:${homeRegion}:${testAccount}:${apiId}/v1/*`,
      ]);
    });

    it("bundles the API host and region at build time (no environment at the edge)", () => {
      // The real edge/build.ts ran during synthesis (sharedStack removed any earlier bundle).
      const bundle = s.edgeBundle;
      expect(bundle).toContain(String(s.outputs.apiHost));
      expect(bundle).toContain(homeRegion);
    });
  });
}
