/**
 * The schedule of the image cleanup (functions/src/images-cleanup/handler.ts): it deletes the stored objects of
 * erased records, which a database trigger queued in the erasing transaction. Every few minutes is
 * enough — the record and its image rows are gone at once, only the (encrypted) objects wait — and
 * keeps S3 rights and an S3 client away from the records function. A failing run raises an alarm
 * (observability.ts); its objects stay queued for the next run.
 */
import type { Ctx } from "./context.ts";
import type { Handler } from "./functions.ts";

/** How often the cleanup runs. */
export const imageCleanupSchedule = "rate(5 minutes)";

/**
 * Runs the cleanup function on its schedule. The schedule (and so its target) is created only after
 * `dependsOn` — the database bootstrap: a run before the schema exists would fail and raise the alarm.
 */
export function scheduleImageCleanup(
  ctx: Ctx,
  args: { handler: Handler; dependsOn: $util.Input<$util.Resource>[] },
): { schedule: aws.cloudwatch.EventRule } {
  const p = { provider: ctx.home };
  const schedule = new aws.cloudwatch.EventRule(
    "ImagesCleanupSchedule",
    { name: ctx.name("images-cleanup"), scheduleExpression: imageCleanupSchedule, state: "ENABLED" },
    { ...p, dependsOn: args.dependsOn },
  );
  new aws.cloudwatch.EventTarget("ImagesCleanupTarget", { rule: schedule.name, arn: args.handler.fn.arn }, p);
  new aws.lambda.Permission(
    "ImagesCleanupScheduleInvokes",
    {
      action: "lambda:InvokeFunction",
      function: args.handler.functionName,
      principal: "events.amazonaws.com",
      sourceArn: schedule.arn,
    },
    p,
  );
  return { schedule };
}
