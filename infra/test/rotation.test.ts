import { beforeAll, describe, expect, it } from "vitest";
import { apiKeyStageTag } from "../rotation.ts";
import { homeRegion, stageConfig } from "../stage.ts";
import { type Stack, synthesize, testAccount } from "./harness.ts";
import { decide } from "./simulate.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
type Doc = { Statement: any[] };
const asArray = <V>(v: V | V[] | undefined): V[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The API-key rotation (rotation.ts) on prod: schedule, deploy-time run, and a role scoped to prod. */
describe("rotation: API key rotation", () => {
  let s: Stack;
  const role = `arn:aws:iam::${testAccount}:role/veil-prod-rotate-api-key`;
  const gw = `arn:aws:apigateway:${homeRegion}::`;
  const policies = (): Doc[] =>
    s
      .ofType("aws:iam/rolePolicy:RolePolicy")
      .filter((p) => p.inputs.role === "veil-prod-rotate-api-key")
      .map((p) => JSON.parse(p.inputs.policy));
  const ask = (action: string, resource: string, context: Record<string, string> = {}) =>
    decide({ role, identity: policies(), action, resource, context });

  beforeAll(async () => {
    s = await synthesize("prod");
  }, 120_000);

  it("runs on the stage's schedule and once at deploy time", () => {
    expect(
      s.get("aws:cloudwatch/eventRule:EventRule", "RotateApiKeySchedule").inputs.scheduleExpression,
    ).toBe(stageConfig("prod").apiKeyRotation);
    expect(s.get("aws:lambda/invocation:Invocation", "RotateApiKeyAtDeploy").inputs.functionName).toBe(
      "veil-prod-rotate-api-key",
    );
  });

  it("has a least-privilege role: this stage's keys, this usage plan and this distribution only", () => {
    const statements = policies().flatMap((d) => d.Statement);
    const actions = statements.flatMap((st) => asArray(st.Action) as string[]);
    expect(actions.filter((a) => a.includes("*") && !a.startsWith("lambda:EnableReplication"))).toEqual([]);
    expect(actions.some((a) => /^(kms|s3|secretsmanager|rds-db|iam):/.test(a))).toBe(false);
    const cf = statements.find((st) => asArray(st.Action).includes("cloudfront:UpdateDistribution"));
    expect(asArray(cf.Resource)).toEqual([expect.stringMatching(/^arn:aws:cloudfront::\d+:distribution\//)]);
    expect(s.builds.RotateApiKey.links.RotationTarget).toMatchObject({
      originId: "api",
      keyNamePrefix: "veil-prod-cloudfront-",
      keyTags: { [apiKeyStageTag]: "prod" },
    });
    expect(Object.keys(s.builds.RotateApiKey.links).sort()).toEqual(["RotationTarget"]);
  });

  it("may delete only API keys tagged for this stage (simulated)", async () => {
    const key = `${gw}/apikeys/abc123`;
    expect(await ask("apigateway:DELETE", key, { [`aws:ResourceTag/${apiKeyStageTag}`]: "prod" })).toBe(
      "Allowed",
    );
    // Another stage's key, and a key of anything else in the region: refused.
    expect(await ask("apigateway:DELETE", key, { [`aws:ResourceTag/${apiKeyStageTag}`]: "sit" })).not.toBe(
      "Allowed",
    );
    expect(await ask("apigateway:DELETE", key)).not.toBe("Allowed");
    expect(await ask("apigateway:GET", key)).not.toBe("Allowed");
  });

  it("may create keys only with this stage's tag, and manage this usage plan's keys only", async () => {
    const create = (context: Record<string, string>) => ask("apigateway:POST", `${gw}/apikeys`, context);
    expect(await create({ [`aws:RequestTag/${apiKeyStageTag}`]: "prod" })).toBe("Allowed");
    expect(await create({ [`aws:RequestTag/${apiKeyStageTag}`]: "sit" })).not.toBe("Allowed");
    expect(await create({})).not.toBe("Allowed");
    const plan = s.get("aws:apigateway/usagePlan:UsagePlan", "ApiUsagePlan").id;
    expect(await ask("apigateway:POST", `${gw}/usageplans/${plan}/keys`)).toBe("Allowed");
    expect(await ask("apigateway:GET", `${gw}/usageplans/${plan}/keys`)).toBe("Allowed");
    expect(await ask("apigateway:POST", `${gw}/usageplans/otherplan/keys`)).not.toBe("Allowed");
  });
});
