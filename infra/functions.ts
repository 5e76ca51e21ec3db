/**
 * The Lambda handlers, built by SST from the TypeScript sources in functions/. Every function gets the
 * role made for it (roles.ts) instead of an SST-generated one, its own encrypted and masked log group,
 * X-Ray tracing, and Powertools configured by environment (capturing of responses and errors off, so
 * payloads never reach X-Ray). The Powertools logger is bundled like every other dependency, not taken
 * from the Powertools layer: the deployed bundle is then the one `functions/build.ts` builds and the
 * benchmarks measure (init is ~15 ms faster than resolving the layer's `node_modules` at import), its
 * version is the workspace catalog's, and no layer version has to be matched to the region by hand.
 */
import { type FunctionSpec, type LinkName, productionDefine } from "../functions/manifest.ts";
import type { Ctx } from "./context.ts";
import { grantLiveStub } from "./live-dev.ts";
import { createLogGroup } from "./logs.ts";
import type { Network } from "./network.ts";

/** SST's handler string of a manifest entry (`file.export`, from the repository root). */
export function sstHandler(spec: FunctionSpec): string {
  return `functions/${spec.entry.replace(/\.ts$/, "")}.handler`;
}

/** `images-api` → `ImagesApi`: the Pulumi name of a function's resources. */
export function resourceName(spec: FunctionSpec): string {
  return spec.name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
}

export interface HandlerArgs {
  readonly role: aws.iam.Role;
  readonly logsKeyArn: $util.Input<string>;
  readonly environment?: Record<string, $util.Input<string>>;
  /**
   * The linkables to pick from, by link name: the function is linked to exactly those its manifest
   * entry lists (`Resource.<Name>` in the handler).
   */
  readonly links?: Partial<Record<LinkName, sst.Linkable<Record<string, unknown>>>>;
  /** The private subnets; required for a function the manifest puts in the VPC. */
  readonly network?: Network;
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

/**
 * Creates one function of the manifest (entry, description, memory, timeout, streaming, links) with
 * its log group, named `veil-<stage>-<name>`.
 */
export function createHandler(ctx: Ctx, spec: FunctionSpec, args: HandlerArgs): Handler {
  const id = resourceName(spec);
  const functionName = ctx.name(spec.name);
  const missing = spec.links.filter((l) => !args.links?.[l]);
  if (missing.length > 0)
    throw new Error(`function ${spec.name} reads ${missing.join(", ")}, but no such link was given`);
  if (spec.vpc && !args.network) throw new Error(`function ${spec.name} needs the network (VPC)`);
  const logGroup = createLogGroup(ctx, `${id}LogGroup`, `/aws/lambda/${functionName}`, {
    logsKeyArn: args.logsKeyArn,
  });
  const fn = new sst.aws.Function(
    id,
    {
      name: functionName,
      description: spec.description,
      handler: sstHandler(spec),
      link: spec.links.map((l) => args.links?.[l] as sst.Linkable<Record<string, unknown>>),
      // The FLE key bootstrap, the database bootstrap and the key rotation run in AWS even under `sst dev`.
      dev: spec.remoteOnly ? false : undefined,
      streaming: spec.streaming,
      runtime: "nodejs22.x",
      architecture: "arm64",
      role: args.role.arn,
      timeout: `${spec.timeoutSeconds} seconds`,
      memory: `${spec.memoryMb} MB`,
      logging: { logGroup: logGroup.name, format: "json" },
      // The options functions/build.ts mirrors (no esbuild plugin); the define compiles the test-only
      // control switches out.
      nodejs: {
        format: "esm",
        sourcemap: false,
        esbuild: { define: { ...productionDefine } },
      },
      vpc:
        spec.vpc && args.network
          ? {
              privateSubnets: args.network.privateSubnetIds,
              securityGroups: [args.network.functionSecurityGroup.id],
            }
          : undefined,
      environment: {
        POWERTOOLS_SERVICE_NAME: `veil-${spec.name}`,
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
  if ($dev && !spec.remoteOnly) grantLiveStub(ctx, id, args.role);
  return { fn, logGroup, functionName: fn.name };
}
