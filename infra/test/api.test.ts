import { beforeAll, describe, expect, it } from "vitest";
import { type Stack, synthesize, testAccount } from "./harness.ts";

const accountType = "aws:apigateway/account:Account";
const roleType = "aws:iam/role:Role";

/** API Gateway's account-wide CloudWatch role (api.ts): created once per account, never broken. */
describe("api: the account's CloudWatch role for access logs", () => {
  let fresh: Stack;
  let shared: Stack;
  let legacy: Stack;
  const setting = (cloudwatchRoleArn: string) => ({ reads: { [accountType]: { cloudwatchRoleArn } } });
  beforeAll(async () => {
    // An account where no stage set the role yet.
    fresh = await synthesize("dev", {}, setting(""));
    // An account where another stage already did.
    shared = await synthesize("sit", {}, setting(`arn:aws:iam::${testAccount}:role/veil-apigw-logs-0a1b2c`));
    // An account set by this stage's own role of earlier versions (deleted with the stage).
    legacy = await synthesize("dev", {}, setting(`arn:aws:iam::${testAccount}:role/veil-dev-apigw-logs`));
  }, 360_000);

  const created = (s: Stack) => s.ofType(accountType).filter((a) => !a.read);

  it("creates the role and the setting once, account-wide, and retains both when the stage is removed", () => {
    const [account] = created(fresh);
    expect(account).toBeDefined();
    const role = fresh.get(roleType, "ApiGatewayLogsRole");
    expect(account!.inputs.cloudwatchRoleArn).toBe(role.state.arn);
    // Not named after a stage: no stage owns it.
    expect(role.inputs.name).toBeUndefined();
    expect(role.inputs.namePrefix).toBe("veil-apigw-logs-");
    for (const r of [
      account!,
      role,
      fresh.get("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "ApiGatewayLogsRolePolicy"),
    ])
      expect(r.opts.retainOnDelete, r.name).toBe(true);
    expect(fresh.orderedAfter(fresh.get("aws:apigateway/stage:Stage", "ApiStage"), account!)).toBe(true);
  });

  it("reuses the role another stage set, and changes nothing of the account's setting", () => {
    expect(created(shared)).toEqual([]);
    expect(shared.ofType(roleType).filter((r) => r.name === "ApiGatewayLogsRole")).toEqual([]);
  });

  it("takes over from this stage's own role of earlier versions (an account-wide role replaces it)", () => {
    expect(created(legacy)).toHaveLength(1);
    expect(legacy.get(roleType, "ApiGatewayLogsRole").opts.retainOnDelete).toBe(true);
  });
});
