/**
 * The Lambda handlers, built by SST from the TypeScript sources in functions/. Every function gets the
 * role made for it (roles.ts) instead of an SST-generated one, its own encrypted and masked log group,
 * X-Ray tracing, and Powertools configured by environment (capturing of responses and errors off, so
 * payloads never reach X-Ray). The Powertools logger is bundled like every other dependency, not taken
 * from the Powertools layer: the deployed bundle is then the one `functions/build.ts` builds and the
 * benchmarks measure (init is ~15 ms faster than resolving the layer's `node_modules` at import), its
 * version is the workspace catalog's, and no layer version has to be matched to the region by hand.
 */
import type { Ctx } from "./context.ts";
import { grantLiveStub } from "./live-dev.ts";
import { createLogGroup } from "./logs.ts";
import type { Network } from "./network.ts";

/** Handler entry points, relative to the repository root (`file.export`). */
export const handlers = {
  api: "functions/src/records/handler.handler",
  imagesApi: "functions/src/images/api.handler",
  imagesDownload: "functions/src/images/download.handler",
  ingest: "functions/src/images/ingest.handler",
  imagesCleanup: "functions/src/images/cleanup.handler",
  rotateApiKey: "functions/src/rotate-api-key/handler.handler",
  fleKeyBootstrap: "functions/src/fle-key-bootstrap/handler.handler",
} as const;

export interface HandlerArgs {
  readonly handler: string;
  readonly role: aws.iam.Role;
  readonly logsKeyArn: $util.Input<string>;
  readonly environment?: Record<string, $util.Input<string>>;
  /** SST links the handler reads as `Resource.<Name>`. */
  readonly link?: sst.Linkable<Record<string, unknown>>[];
  /** Attach to the private subnets (needed to reach the database). */
  readonly network?: Network;
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
  /**
   * Lambda response streaming (the handler is wrapped in `awslambda.streamifyResponse`): SST then
   * proxies the stream under `sst dev` too. API Gateway needs its STREAM integration (api.ts).
   */
  readonly streaming?: boolean;
  readonly description: string;
  /**
   * `false`: even under `sst dev` the real function runs in AWS instead of on the laptop. For the
   * FLE key bootstrap (the private key must never exist on a laptop) and the API-key rotation.
   */
  readonly live?: false;
}

export interface Handler {
  readonly fn: sst.aws.Function;
  readonly logGroup: aws.cloudwatch.LogGroup;
  /**
   * Name of the Lambda function, as an output of the function: whatever names it (permissions, invoke
   * configs, invocations, alarms) is then created only after the function exists.
   */
  readonly functionName: $util.Output<string>;
}

/** Creates one handler with its log group. */
export function createHandler(ctx: Ctx, id: string, args: HandlerArgs): Handler {
  const functionName = ctx.name(
    id.replace(/[A-Z]/g, (c, i) => (i === 0 ? c.toLowerCase() : `-${c.toLowerCase()}`)),
  );
  const logGroup = createLogGroup(ctx, `${id}LogGroup`, `/aws/lambda/${functionName}`, {
    logsKeyArn: args.logsKeyArn,
  });
  const fn = new sst.aws.Function(
    id,
    {
      name: functionName,
      description: args.description,
      handler: args.handler,
      link: args.link,
      dev: args.live,
      streaming: args.streaming,
      runtime: "nodejs22.x",
      architecture: "arm64",
      role: args.role.arn,
      timeout: `${args.timeoutSeconds ?? 10} seconds`,
      memory: `${args.memoryMb ?? 512} MB`,
      logging: { logGroup: logGroup.name, format: "json" },
      // __VEIL_TEST_SWITCHES__ false: the test-only control switches of the handlers are compiled out.
      nodejs: {
        format: "esm",
        sourcemap: false,
        // Swaps Encryption SDK and pg modules the handlers never run for faithful small ones (tested):
        // the same plugins functions/build.ts uses, so the measured bundle is the deployed one.
        plugins: "functions/esbuild-plugins.mjs",
        esbuild: { define: { __VEIL_TEST_SWITCHES__: "false" } },
      },
      vpc: args.network
        ? {
            privateSubnets: args.network.privateSubnetIds,
            securityGroups: [args.network.functionSecurityGroup.id],
          }
        : undefined,
      environment: {
        POWERTOOLS_SERVICE_NAME: `veil-${id}`,
        POWERTOOLS_METRICS_NAMESPACE: "Veil",
        POWERTOOLS_LOG_LEVEL: "INFO",
        POWERTOOLS_LOGGER_LOG_EVENT: "false",
        POWERTOOLS_TRACE_ENABLED: "true",
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
        POWERTOOLS_TRACER_CAPTURE_ERROR: "false",
        POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: "true",
        VEIL_STAGE: ctx.stageName,
        ...args.environment,
      },
      transform: {
        function: (fnArgs) => {
          fnArgs.tracingConfig = { mode: "Active" };
          if (ctx.codeSigningConfigArn) fnArgs.codeSigningConfigArn = ctx.codeSigningConfigArn;
        },
      },
    },
    { provider: ctx.home },
  );
  // Under `sst dev` the stub relays invocations through SST's AppSync Events API with this role.
  if ($dev && args.live !== false) grantLiveStub(ctx, id, args.role);
  return { fn, logGroup, functionName: fn.name };
}
