/**
 * What a live function needs under `sst dev`. SST replaces its code with a stub (the "bridge") that
 * relays each invocation to the laptop over SST's AppSync Events API: it connects to the API and
 * publishes and subscribes on channels `/sst/<app>/<stage>/…`, i.e. in the `sst` channel namespace,
 * signing with the function's role. The stub of sst 4.17 makes no other AWS call (its binary links no
 * S3 client: the asset bucket rights SST's own roles get are not needed). Our functions use their own
 * roles, so those rights are granted here, and only when `$dev`.
 */
import type { Ctx } from "./context.ts";
import { VisibleError } from "./errors.ts";

/** The channel namespace of the stub's channels. */
export const liveChannelNamespace = "sst";

/**
 * `<api id>.appsync-api.<region>.amazonaws.com` (with or without scheme and path) → the Events API's
 * id and region. Throws a `VisibleError` when the endpoint SST reports has another shape.
 */
export function appsyncApi(endpoint: string): { id: string; region: string } {
  const m = /(?:^|\/\/)([a-z0-9]+)\.appsync-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(endpoint);
  if (!m) throw new VisibleError(`sst dev: cannot read the AppSync Events API from "${endpoint}"`);
  return { id: m[1]!, region: m[2]! };
}

/** The statements of a live function's role under `sst dev`: this one Events API and namespace. */
export function liveStubStatements(api: { id: string; region: string }, accountId: string) {
  const apiArn = `arn:aws:appsync:${api.region}:${accountId}:apis/${api.id}`;
  return [
    { Sid: "SstDevConnect", Effect: "Allow", Action: "appsync:EventConnect", Resource: apiArn },
    {
      Sid: "SstDevRelay",
      Effect: "Allow",
      Action: ["appsync:EventPublish", "appsync:EventSubscribe"],
      Resource: `${apiArn}/channelNamespace/${liveChannelNamespace}`,
    },
  ];
}

/** Grants a live function's role what SST's dev stub calls. */
export function grantLiveStub(ctx: Ctx, id: string, role: aws.iam.Role): aws.iam.RolePolicy {
  const endpoint = $util.output(sst.aws.Function.appsync()).apply((a: { http: string }) => a.http);
  return new aws.iam.RolePolicy(
    `${id}SstDev`,
    {
      role: role.name,
      policy: $util
        .all([endpoint, ctx.accountId])
        .apply(([http, account]) =>
          JSON.stringify({ Version: "2012-10-17", Statement: liveStubStatements(appsyncApi(http), account) }),
        ),
    },
    { provider: ctx.home },
  );
}
