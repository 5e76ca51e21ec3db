// Over 300 lines: one concern, the REST API: routes, integrations, auth, usage plan and logs together.
/**
 * API Gateway REST API, regional. Every method requires AWS_IAM (SigV4 from the Lambda@Edge signer) and
 * an API key (the secret origin header CloudFront adds); a usage plan throttles; access logs record
 * request metadata only (no bodies, no headers, no query strings); execution data tracing is off.
 *
 * Routes come from the tables of @veil/core: `recordRoutes` go to the records function, `accountRoutes`
 * to the account function, `imageRoutes` to the images API function, except the `STREAM` one (the
 * download), which is integrated in response streaming mode: `responseTransferMode: STREAM` and the Lambda `response-streaming-invocations` URI.
 * Each function may be invoked by this API on its own routes only.
 */
import { accountRoutes, imageRoutes, recordRoutes } from "@veil/core";
import { type Ctx, type PolicyDocument, policyJson, serviceTrust } from "./context.ts";
import { createLogGroup } from "./logs.ts";

export interface Api {
  readonly restApi: aws.apigateway.RestApi;
  readonly stage: aws.apigateway.Stage;
  readonly usagePlan: aws.apigateway.UsagePlan;
  /** `abc123.execute-api.eu-central-2.amazonaws.com` */
  readonly host: $util.Output<string>;
  /** `arn:aws:execute-api:…:<api>/<stage>/*` — what the edge role may invoke. */
  readonly invokeArn: $util.Output<string>;
  readonly stageName: string;
}

/** A Lambda function behind the API. */
export interface ApiTarget {
  readonly functionArn: $util.Input<string>;
  readonly functionName: $util.Input<string>;
}

export interface ApiArgs {
  /** The records handler (Lambda proxy integration, buffered). */
  readonly records: ApiTarget;
  /** The buffered image routes (upload presigning, list). */
  readonly images: ApiTarget;
  /** The streamed image download (Lambda response streaming). */
  readonly imageDownload: ApiTarget & { readonly timeoutSeconds: number };
  /** The account API (erasure). */
  readonly account: ApiTarget;
  readonly logsKeyArn: $util.Input<string>;
  /** The only principal whose signed requests the API accepts (the edge signer's role). */
  readonly callerRoleArn: $util.Input<string>;
  /**
   * Put the stage live only after these (the database bootstrap): before it, every route would answer
   * 503 for want of a schema and a `veil_app` role.
   */
  readonly dependsOn: $util.Input<$util.Resource>[];
}

/**
 * The API's resource policy: IAM auth alone would accept a signature of any principal in the account
 * whose identity policy allows execute-api:Invoke; this denies everyone but the edge signer's role.
 */
export function apiResourcePolicy(
  callerRoleArn: $util.Input<string>,
  executionArn: $util.Input<string>,
): PolicyDocument {
  const resource = $interpolate`${executionArn}/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EdgeSignerOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: resource,
        Condition: { ArnEquals: { "aws:PrincipalArn": callerRoleArn } },
      },
      {
        Sid: "DenyEveryoneElse",
        Effect: "Deny",
        Principal: "*",
        Action: "execute-api:Invoke",
        Resource: resource,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": callerRoleArn } },
      },
    ],
  };
}

/** Access-log fields: who, what, outcome, timing. Never `$context.requestOverride`, bodies or headers. */
export const accessLogFormat = JSON.stringify({
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  requestTime: "$context.requestTimeEpoch",
  httpMethod: "$context.httpMethod",
  resourcePath: "$context.resourcePath",
  status: "$context.status",
  responseLength: "$context.responseLength",
  integrationStatus: "$context.integration.status",
  integrationLatency: "$context.integrationLatency",
  caller: "$context.identity.caller",
  apiKeyId: "$context.identity.apiKeyId",
  errorType: "$context.error.responseType",
});

/** Creates the REST API, its proxy routes, stage, access logs and usage plan. */
export function createApi(ctx: Ctx, args: ApiArgs): Api {
  const p = { provider: ctx.home };
  const stageName = "v1";
  const restApi = new aws.apigateway.RestApi(
    "Api",
    {
      name: ctx.name("api"),
      description: "Veil records API (reached only through CloudFront + the edge signer)",
      endpointConfiguration: { types: "REGIONAL" },
      apiKeySource: "HEADER",
      disableExecuteApiEndpoint: false,
    },
    p,
  );
  // Part of the deployment: a resource-policy change only takes effect when the stage is redeployed.
  const policyText = policyJson(apiResourcePolicy(args.callerRoleArn, restApi.executionArn));
  const resourcePolicy = new aws.apigateway.RestApiPolicy(
    "ApiResourcePolicy",
    { restApiId: restApi.id, policy: policyText },
    p,
  );
  // One API Gateway resource per path segment of the route table; nothing else is routable.
  const resources = new Map<string, aws.apigateway.Resource>();
  const resourceFor = (path: string): aws.apigateway.Resource => {
    const existing = resources.get(path);
    if (existing) return existing;
    const cut = path.lastIndexOf("/");
    const parentPath = path.slice(0, cut);
    const created = new aws.apigateway.Resource(
      `ApiResource${resourceId(path)}`,
      {
        restApi: restApi.id,
        parentId: parentPath === "" ? restApi.rootResourceId : resourceFor(parentPath).id,
        pathPart: path.slice(cut + 1),
      },
      p,
    );
    resources.set(path, created);
    return created;
  };
  const routes = [
    ...recordRoutes.map((r) => ({ ...r, target: "records" as const, transfer: "BUFFERED" as const })),
    ...imageRoutes.map((r) => ({
      ...r,
      target: r.transfer === "STREAM" ? ("imageDownload" as const) : ("images" as const),
    })),
    ...accountRoutes.map((r) => ({ ...r, target: "account" as const, transfer: "BUFFERED" as const })),
  ];
  const integrations = routes.map((route) => {
    const resource = resourceFor(route.resource);
    const id = `${route.method}${resourceId(route.resource)}`;
    const target = args[route.target];
    const method = new aws.apigateway.Method(
      `ApiMethod${id}`,
      {
        restApi: restApi.id,
        resourceId: resource.id,
        httpMethod: route.method,
        authorization: "AWS_IAM",
        apiKeyRequired: true,
      },
      p,
    );
    return new aws.apigateway.Integration(
      `ApiIntegration${id}`,
      {
        restApi: restApi.id,
        resourceId: resource.id,
        httpMethod: method.httpMethod,
        type: "AWS_PROXY",
        integrationHttpMethod: "POST",
        ...(route.transfer === "STREAM"
          ? {
              uri: lambdaStreamingUri(ctx.homeRegion, target.functionArn),
              responseTransferMode: "STREAM",
              // Streaming may run past the buffered 29 s: up to the function's own timeout.
              timeoutMilliseconds: args.imageDownload.timeoutSeconds * 1000,
            }
          : { uri: lambdaUri(ctx.homeRegion, target.functionArn) }),
      },
      p,
    );
  });
  new aws.lambda.Permission(
    "ApiInvokesHandler",
    {
      action: "lambda:InvokeFunction",
      function: args.records.functionName,
      principal: "apigateway.amazonaws.com",
      sourceArn: $interpolate`${restApi.executionArn}/${stageName}/*`,
    },
    p,
  );
  // The image and account functions: each invocable only through its own methods and paths.
  const permissionPart = { images: "Images", imageDownload: "ImageDownload", account: "Account" } as const;
  for (const route of routes.filter((r) => r.target !== "records")) {
    new aws.lambda.Permission(
      `ApiInvokes${permissionPart[route.target]}${route.method}${resourceId(route.resource)}`,
      {
        action: "lambda:InvokeFunction",
        function: args[route.target].functionName,
        principal: "apigateway.amazonaws.com",
        sourceArn: $interpolate`${restApi.executionArn}/${stageName}/${route.method}${route.resource.replace(/\{[^}]+\}/g, "*")}`,
      },
      p,
    );
  }
  const deployment = new aws.apigateway.Deployment(
    "ApiDeployment",
    {
      restApi: restApi.id,
      triggers: {
        redeployment: $jsonStringify([JSON.stringify(routes), policyText, ...integrations.map((i) => i.id)]),
      },
    },
    { ...p, dependsOn: [...integrations, resourcePolicy] },
  );
  const account = apiGatewayAccount(ctx);
  const accessLogs = createLogGroup(ctx, "ApiAccessLogs", `/veil/${ctx.stageName}/api-access`, {
    logsKeyArn: args.logsKeyArn,
  });
  // The stage is what takes traffic: only it waits for `dependsOn`, the routes and functions build meanwhile.
  const stage = new aws.apigateway.Stage(
    "ApiStage",
    {
      restApi: restApi.id,
      deployment: deployment.id,
      stageName,
      xrayTracingEnabled: true,
      accessLogSettings: { destinationArn: accessLogs.arn, format: accessLogFormat },
    },
    { ...p, dependsOn: [account, ...args.dependsOn] },
  );
  new aws.apigateway.MethodSettings(
    "ApiMethodSettings",
    {
      restApi: restApi.id,
      stageName: stage.stageName,
      methodPath: "*/*",
      settings: {
        metricsEnabled: true,
        loggingLevel: "OFF",
        dataTraceEnabled: false,
        throttlingRateLimit: ctx.stage.api.rateLimit,
        throttlingBurstLimit: ctx.stage.api.burstLimit,
      },
    },
    p,
  );
  const usagePlan = new aws.apigateway.UsagePlan(
    "ApiUsagePlan",
    {
      name: ctx.name("cloudfront"),
      description: "The only consumer: CloudFront, with the rotated origin API key",
      apiStages: [{ apiId: restApi.id, stage: stage.stageName }],
      throttleSettings: { rateLimit: ctx.stage.api.rateLimit, burstLimit: ctx.stage.api.burstLimit },
    },
    p,
  );
  return {
    restApi,
    stage,
    usagePlan,
    host: $interpolate`${restApi.id}.execute-api.${ctx.homeRegion}.amazonaws.com`,
    invokeArn: $interpolate`${restApi.executionArn}/${stageName}/*`,
    stageName,
  };
}

/**
 * Access logging needs API Gateway's CloudWatch role, a single setting per account and region that
 * every stage deployed there shares. When the account has one, it is reused and left alone; only when
 * it has none (or only this stage's own role of earlier versions) is an account-wide role created and
 * set. Both are retained on delete: removing this stage must not break another stage's logs, and a
 * later deploy that finds the setting made reuses it (the resources drop out of its state, retained).
 */
function apiGatewayAccount(ctx: Ctx): $util.Output<$util.Resource> {
  const p = { provider: ctx.home };
  const current = aws.apigateway.Account.get("ApiGatewayAccountSetting", "APIGatewayAccount", undefined, p);
  const legacyRole = `:role/${ctx.name("apigw-logs")}`;
  return current.cloudwatchRoleArn.apply((arn): $util.Resource => {
    if (arn && !arn.endsWith(legacyRole)) return current;
    const keep = { ...p, retainOnDelete: true };
    const role = new aws.iam.Role(
      "ApiGatewayLogsRole",
      {
        namePrefix: "veil-apigw-logs-",
        description: "API Gateway's CloudWatch Logs role for this account and region (shared by all stages)",
        assumeRolePolicy: serviceTrust("apigateway.amazonaws.com"),
      },
      keep,
    );
    const policy = new aws.iam.RolePolicyAttachment(
      "ApiGatewayLogsRolePolicy",
      {
        role: role.name,
        policyArn: "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
      },
      keep,
    );
    return new aws.apigateway.Account(
      "ApiGatewayAccount",
      { cloudwatchRoleArn: role.arn },
      { ...keep, dependsOn: [policy] },
    );
  });
}

/** The Lambda proxy integration URI of a function (buffered). */
export function lambdaUri(region: string, functionArn: $util.Input<string>): $util.Output<string> {
  return $interpolate`arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;
}

/** The Lambda integration URI for response streaming (API Gateway `responseTransferMode: STREAM`). */
export function lambdaStreamingUri(region: string, functionArn: $util.Input<string>): $util.Output<string> {
  return $interpolate`arn:aws:apigateway:${region}:lambda:path/2021-11-15/functions/${functionArn}/response-streaming-invocations`;
}

/** `/api/records/{id}` → `ApiRecordsId`: a stable logical-name part for a path. */
function resourceId(path: string): string {
  return path
    .split("/")
    .filter(Boolean)
    .map((seg) => seg.replace(/[{}+]/g, ""))
    .map((seg) => seg.charAt(0).toUpperCase() + seg.slice(1))
    .join("");
}
