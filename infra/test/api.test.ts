import { accountRoutes, imageRoutes, recordRoutes } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { functionNames, manifest } from "../../functions/manifest.ts";
import { resourceName } from "../functions.ts";
import { homeRegion } from "../stage.ts";
import { type Stack, synthesize, testAccount } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";
import { parse, roleArn, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

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

/**
 * The REST API (api.ts) on each shared stage: its methods, integrations, invoke permissions, resource
 * policy, throttling and access logs.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  const { stage, n, pathOf, integrationOf } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
  }, 120_000);

  describe(`${stageName}: API Gateway`, () => {
    it("is regional and every method needs AWS_IAM and an API key", () => {
      expect(s.get("aws:apigateway/restApi:RestApi", "Api").inputs.endpointConfiguration.types).toBe(
        "REGIONAL",
      );
      const methods = s.ofType("aws:apigateway/method:Method");
      expect(methods).toHaveLength(recordRoutes.length + imageRoutes.length + accountRoutes.length);
      for (const m of methods) {
        expect(m.inputs.authorization, m.name).toBe("AWS_IAM");
        expect(m.inputs.apiKeyRequired, m.name).toBe(true);
      }
      // Exactly the routes of the tables in @veil/core, nothing else.
      expect(methods.map((m) => `${m.inputs.httpMethod} ${pathOf(m.inputs.resourceId)}`).sort()).toEqual(
        [...recordRoutes, ...imageRoutes, ...accountRoutes].map((r) => `${r.method} ${r.resource}`).sort(),
      );
    });

    it("sends each route to its function: records, images API, and the download as a response stream", () => {
      const fnArn = (name: string) => String(s.get(T.lambda, `${name}Function`).state.arn);
      // The function of the manifest that lists the route.
      const target = (route: { method: string; resource: string }) => {
        const name = functionNames.find((f) =>
          manifest[f].routes.some((r) => r.method === route.method && r.resource === route.resource),
        );
        return name ? resourceName(manifest[name]) : "none";
      };
      for (const route of [...recordRoutes, ...imageRoutes, ...accountRoutes]) {
        const integration = integrationOf(route.method, route.resource);
        const label = `${route.method} ${route.resource}`;
        expect(integration.type, label).toBe("AWS_PROXY");
        expect(integration.integrationHttpMethod, label).toBe("POST");
        if (target(route) === "ImagesDownload") {
          expect(integration.responseTransferMode, label).toBe("STREAM");
          expect(integration.uri, label).toBe(
            `arn:aws:apigateway:${homeRegion}:lambda:path/2021-11-15/functions/${fnArn("ImagesDownload")}/response-streaming-invocations`,
          );
          expect(integration.timeoutMilliseconds, label).toBeGreaterThan(29_000);
          expect(integration.timeoutMilliseconds, label).toBe(
            s.get(T.lambda, "ImagesDownloadFunction").inputs.timeout * 1000,
          );
        } else {
          expect(integration.responseTransferMode ?? "BUFFERED", label).toBe("BUFFERED");
          expect(integration.uri, label).toBe(
            `arn:aws:apigateway:${homeRegion}:lambda:path/2015-03-31/functions/${fnArn(target(route))}/invocations`,
          );
        }
      }
      expect(imageRoutes.filter((r) => r.transfer === "STREAM")).toHaveLength(1);
    });

    it("lets API Gateway invoke each image function on its own routes only", () => {
      const permissions = s
        .ofType("aws:lambda/permission:Permission")
        .filter((p) => String(p.inputs.principal).startsWith("apigateway."));
      const sources = (fn: string) =>
        permissions
          .filter((p) => p.inputs.function === n(fn))
          .map((p) => String(p.inputs.sourceArn).split("/v1/")[1])
          .sort();
      expect(sources("images-api")).toEqual(["GET/api/records/*/images", "POST/api/records/*/images"].sort());
      expect(sources("images-download")).toEqual(["GET/api/records/*/images/*"]);
      expect(sources("account")).toEqual(["DELETE/api/account"]);
      expect(sources("records")).toEqual(["*"]);
    });

    it("accepts signatures of the edge signer's role only (resource policy, redeployed with the stage)", async () => {
      const doc = parse(
        s.get("aws:apigateway/restApiPolicy:RestApiPolicy", "ApiResourcePolicy").inputs.policy,
      );
      const apiId = String(s.outputs.apiHost).split(".")[0];
      const resource = `arn:aws:execute-api:${homeRegion}:${testAccount}:${apiId}/v1/POST/api/records`;
      const edgeRole = roleArn(n("edge-signer"));
      const edgeIdentity = [parse(s.get(T.rolePolicy, "EdgeSignerPolicy").inputs.policy)];
      expect(
        await decide({
          role: edgeRole,
          identity: edgeIdentity,
          action: "execute-api:Invoke",
          resource,
          resourcePolicy: doc,
        }),
      ).toBe("Allowed");
      for (const role of ["veil-developer", n("api"), `veil-deploy-${stageName}`])
        expect(
          await decide({
            role: roleArn(role),
            identity: [allowAll],
            action: "execute-api:Invoke",
            resource,
            resourcePolicy: doc,
          }),
          role,
        ).toBe("ExplicitlyDenied");
      const deployment = s.get("aws:apigateway/deployment:Deployment", "ApiDeployment").inputs;
      expect(deployment.triggers.redeployment).toContain("EdgeSignerOnly");
    });

    it("throttles through a usage plan and logs access without bodies", () => {
      const plan = s.get("aws:apigateway/usagePlan:UsagePlan", "ApiUsagePlan").inputs;
      expect(plan.throttleSettings).toEqual({
        rateLimit: stage.api.rateLimit,
        burstLimit: stage.api.burstLimit,
      });
      expect(plan.apiStages).toHaveLength(1);
      const st = s.get("aws:apigateway/stage:Stage", "ApiStage").inputs;
      const format = String(st.accessLogSettings.format);
      expect(format).toContain("$context.requestId");
      expect(format).not.toMatch(/body|requestOverride|responseOverride|\$input|header/i);
      const settings = s.get("aws:apigateway/methodSettings:MethodSettings", "ApiMethodSettings").inputs
        .settings;
      expect(settings.dataTraceEnabled).toBe(false);
      expect(settings.loggingLevel).toBe("OFF");
    });
  });
}
