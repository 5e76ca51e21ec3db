/**
 * The functions of the local stack, read from the function manifest (`@veil/functions/manifest`) and
 * run from their bundles (`@veil/functions/build`), the files infra deploys: each in its own process
 * (`startLocalLambda`), with the memory and timeout of its entry, exactly its links as
 * `SST_RESOURCE_<Name>` variables, and API Gateway routes from its entry.
 *
 * Bundles are built when stale (missing, or older than a source they were built from). Inside a test
 * run the stack runs the `test` flavour, outside it `production`: the two differ only in the
 * `__VEIL_TEST_SWITCHES__` define, which compiles in the records function's test-only switches (off
 * unless a test sets one; the stack refuses that outside a test run).
 */
import { join } from "node:path";
import { type BundleFlavour, bundleDir, bundleFile, ensureBundles } from "@veil/functions/build";
import { type FunctionName, type LinkName, manifest } from "@veil/functions/manifest";
import type { GatewayRoute } from "../gateway/index.ts";
import { type LocalLambda, startLocalLambda } from "../lambda/index.ts";
import { isTestRun } from "./test-switches.ts";

/** The functions the local stack runs (the deploy-time bootstraps and the key rotation run only in AWS). */
export const localFunctions = [
  "records",
  "images-api",
  "images-download",
  "images-ingest",
  "images-cleanup",
  "account",
] as const satisfies readonly FunctionName[];

export type LocalFunctionName = (typeof localFunctions)[number];

/** The bundle flavour a stack runs: `test` inside a test run, `production` otherwise. */
export function localBundleFlavour(env: NodeJS.ProcessEnv = process.env): BundleFlavour {
  return isTestRun(env) ? "test" : "production";
}

/**
 * Builds the stale bundles of the local functions into `dir` (default `functions/dist/<flavour>`);
 * resolves with the folder and the names it rebuilt.
 *
 * @example
 *   const { dir, rebuilt } = await prepareBundles("production");
 */
export async function prepareBundles(
  flavour: BundleFlavour,
  dir: string = bundleDir(flavour),
): Promise<{ dir: string; rebuilt: FunctionName[] }> {
  const rebuilt = await ensureBundles({ flavour, outdir: dir, names: localFunctions });
  return { dir, rebuilt };
}

export interface StartFunctionOptions {
  /** The folder of the bundles (`<dir>/<name>/index.mjs`). */
  readonly bundleDir: string;
  readonly stage: string;
  readonly logDir: string;
  /** The local value of every link a function may read; each function gets those of its entry. */
  readonly links: Partial<Record<LinkName, unknown>>;
  /** Environment every function gets (region, credentials, endpoints). */
  readonly env: Record<string, string>;
}

/** Starts one function of the manifest from its bundle; logs to `<logDir>/<name>.log`. */
export function startFunction(name: LocalFunctionName, options: StartFunctionOptions): LocalLambda {
  const spec = manifest[name];
  const resources: Record<string, string> = {
    SST_RESOURCE_App: JSON.stringify({ name: "veil", stage: options.stage }),
  };
  for (const link of spec.links) {
    const value = options.links[link];
    if (value === undefined) throw new Error(`function ${name} reads ${link}, which the local stack lacks`);
    resources[`SST_RESOURCE_${link}`] = JSON.stringify(value);
  }
  return startLocalLambda({
    name: `veil-${options.stage}-${name}`,
    module: bundleFile(options.bundleDir, name),
    logFile: join(options.logDir, `${name}.log`),
    env: { ...options.env, POWERTOOLS_SERVICE_NAME: `veil-${name}`, ...resources },
    timeoutMs: spec.timeoutSeconds * 1000,
    memoryMb: spec.memoryMb,
  });
}

/** The gateway routes of a function's entry; a streaming function is integrated in `STREAM` mode. */
export function gatewayRoutes(name: LocalFunctionName, stage: string, fn: LocalLambda): GatewayRoute[] {
  const spec = manifest[name];
  return spec.routes.map(
    (r): GatewayRoute => ({
      method: r.method,
      resource: r.resource,
      functionName: `veil-${stage}-${name}`,
      handler: (event, context) => fn.invoke(event, { awsRequestId: context.awsRequestId }),
      ...(spec.streaming
        ? {
            streamHandler: (event, context) => fn.invokeStream(event, { awsRequestId: context.awsRequestId }),
          }
        : {}),
    }),
  );
}
