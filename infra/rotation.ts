/**
 * Scheduled rotation of the API key that CloudFront sends to API Gateway. The logic lives in
 * functions/src/rotate-api-key (create the new key in the usage plan, switch the origin header, wait
 * for the distribution to deploy, then delete the old keys), so valid traffic is never rejected. The
 * function runs on a schedule and once at deploy time (which replaces the placeholder header). Its role
 * may touch only this usage plan's keys and this distribution: it creates keys only with this stage's
 * tag and deletes only keys carrying it (API key ARNs are random ids, so the tag is the scope).
 */
import type { Ctx } from "./context.ts";
import type { Handler } from "./functions.ts";
import { baseStatements, grant } from "./roles.ts";

export interface RotationArgs {
  readonly handler: Handler;
  readonly role: aws.iam.Role;
  readonly usagePlanId: $util.Input<string>;
  readonly distributionArn: $util.Input<string>;
  readonly distributionId: $util.Input<string>;
  readonly webAclArn: $util.Input<string>;
  readonly edgeFunctionArn: $util.Input<string>;
  readonly logGroupArn: $util.Input<string>;
}

/** The tag key that marks the API keys the rotation of a stage made (value: the stage name). */
export const apiKeyStageTag = "veil:stage";

/** The tags the rotation puts on every key it creates (passed to the function in its link). */
export function rotationKeyTags(ctx: Ctx): Record<string, string> {
  return { [apiKeyStageTag]: ctx.stageName };
}

/** The rotate role's statements (exported for the least-privilege test). */
export function rotationStatements(ctx: Ctx, a: RotationArgs): Record<string, unknown>[] {
  const gw = `arn:aws:apigateway:${ctx.homeRegion}::`;
  return [
    ...baseStatements(a.logGroupArn, { vpc: false }),
    {
      Sid: "CreateKeysTaggedForThisStage",
      Effect: "Allow",
      Action: "apigateway:POST",
      Resource: [`${gw}/apikeys`],
      Condition: { StringEquals: { [`aws:RequestTag/${apiKeyStageTag}`]: ctx.stageName } },
    },
    {
      Sid: "DeleteOnlyThisStagesKeys",
      Effect: "Allow",
      Action: "apigateway:DELETE",
      Resource: [`${gw}/apikeys/*`],
      Condition: { StringEquals: { [`aws:ResourceTag/${apiKeyStageTag}`]: ctx.stageName } },
    },
    {
      Sid: "KeysOfThisUsagePlan",
      Effect: "Allow",
      Action: ["apigateway:GET", "apigateway:POST"],
      Resource: [$interpolate`${gw}/usageplans/${a.usagePlanId}/keys`],
    },
    {
      Sid: "ThisDistributionOnly",
      Effect: "Allow",
      Action: [
        "cloudfront:GetDistribution",
        "cloudfront:GetDistributionConfig",
        "cloudfront:UpdateDistribution",
      ],
      Resource: [a.distributionArn],
    },
    {
      Sid: "UpdateDistributionKeepsItsEdgeFunctionAndWaf",
      Effect: "Allow",
      Action: ["lambda:GetFunction", "lambda:EnableReplication*", "wafv2:GetWebACL"],
      Resource: [$interpolate`${a.edgeFunctionArn}:*`, a.webAclArn],
    },
  ];
}

/** Grants the role, schedules the function and runs it once at deploy time. */
export function createRotation(ctx: Ctx, args: RotationArgs): { schedule: aws.cloudwatch.EventRule } {
  const p = { provider: ctx.home };
  const policy = grant(ctx, "RotateApiKeyPolicy", args.role, rotationStatements(ctx, args));
  const schedule = new aws.cloudwatch.EventRule(
    "RotateApiKeySchedule",
    { name: ctx.name("rotate-api-key"), scheduleExpression: ctx.stage.apiKeyRotation, state: "ENABLED" },
    p,
  );
  new aws.cloudwatch.EventTarget("RotateApiKeyTarget", { rule: schedule.name, arn: args.handler.fn.arn }, p);
  new aws.lambda.Permission(
    "RotateApiKeyScheduleInvokes",
    {
      action: "lambda:InvokeFunction",
      function: args.handler.functionName,
      principal: "events.amazonaws.com",
      sourceArn: schedule.arn,
    },
    p,
  );
  new aws.lambda.Invocation(
    "RotateApiKeyAtDeploy",
    {
      functionName: args.handler.functionName,
      input: JSON.stringify({ reason: "deploy" }),
      triggers: { distribution: $util.output(args.distributionId) },
    },
    { ...p, dependsOn: [policy] },
  );
  return { schedule };
}
