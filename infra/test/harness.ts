// Over 300 lines: the Pulumi mock monitor, its recording and the look-ups are one mechanism.
/**
 * Runs `sst.config.ts` for a stage under Pulumi mocks, on the same `@pulumi/pulumi` and `@pulumi/aws`
 * copies the SST platform in `.sst/platform` uses (made by `pnpm --filter @veil/infra prepare:sst`),
 * and records every resource: its type, logical name, resolved inputs, region, resource options and the
 * dependencies the engine would order it by.
 * No network, no AWS credentials, no SST CLI.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { computed } from "./computed.ts";

export const repoRoot = join(import.meta.dirname, "..", "..");
export const platformDir = join(repoRoot, ".sst", "platform");
if (!existsSync(join(platformDir, "config.d.ts")))
  throw new Error(
    ".sst/platform is missing: run `pnpm --filter @veil/infra prepare:sst` (part of `pnpm test`)",
  );
const platformRequire = createRequire(join(platformDir, "package.json"));

/** The platform's Pulumi SDK: the only copy whose mocks the SST components see. */
export const pulumi = platformRequire("@pulumi/pulumi") as typeof import("@pulumi/pulumi");

export const testAccount = "123456789012";
export const defaultRegion = "eu-central-2";

/** One resource as the program asked for it. */
export interface Recorded {
  readonly type: string;
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resolved inputs of arbitrary resource types
  readonly inputs: Record<string, any>;
  readonly region: string;
  /** What the mocks answered (inputs plus computed outputs such as `arn`). */
  // biome-ignore lint/suspicious/noExplicitAny: outputs of arbitrary resource types
  readonly state: Record<string, any>;
  readonly id: string;
  readonly opts: {
    protect?: boolean;
    retainOnDelete?: boolean;
    ignoreChanges?: string[];
    customTimeouts?: { create?: string; update?: string; delete?: string };
  };
  /** True for an existing resource the program only reads (`Resource.get`), which a deploy never changes. */
  readonly read: boolean;
  /** Top-level inputs that hold a secret (Pulumi encrypts them in state); `inputs` shows them in clear. */
  readonly secretInputs: string[];
  /**
   * The direct dependencies sent to the engine with the registration (explicit `dependsOn` plus every
   * resource whose outputs feed an input), as `type::name` keys: what a deploy orders this resource by.
   */
  readonly dependencies: string[];
}

export interface Stack {
  readonly resources: Recorded[];
  // biome-ignore lint/suspicious/noExplicitAny: stack outputs
  readonly outputs: Record<string, any>;
  /** What SST was asked to build per function (handler, links), keyed by the component name. */
  // biome-ignore lint/suspicious/noExplicitAny: build inputs
  readonly builds: Record<string, any>;
  /** Every registration's direct dependencies (`type::name` keys), components and providers included. */
  readonly graph: Readonly<Record<string, string[]>>;
  /** All resources of a type (`aws:kms/key:Key`). */
  ofType(type: string): Recorded[];
  /** The one resource of a type and logical name; throws when absent. */
  get(type: string, name: string): Recorded;
  /**
   * Whether a deploy creates or updates `resource` only after `before` succeeded: `before` is among its
   * dependencies, directly or through a chain of them.
   */
  orderedAfter(resource: Recorded, before: Recorded): boolean;
}

/** `urn:pulumi:<stack>::<project>::<parent types$type>::<name>` → `type::name` (the harness's key). */
function keyOfUrn(urn: string): string {
  const [, , qualifiedType = "", ...name] = urn.split("::");
  return `${qualifiedType.split("$").pop()}::${name.join("::")}`;
}

/** The part of the monitor's registration request the harness reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDependenciesList(): string[];
}

/** The marker Pulumi's wire format wraps a secret value in. */
const secretSig = "4dabf18193072939515e22adb298388d";

/** The value with every secret unwrapped; `found` tells whether there was one. */
function unsecret(value: unknown, found: { secret: boolean }): unknown {
  if (Array.isArray(value)) return value.map((v) => unsecret(v, found));
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  if (o[secretSig] === "1b47061264138c4ac30d75fd1eb44270") {
    found.secret = true;
    return unsecret(o.value, found);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unsecret(v, found)]));
}

let ids = 0;
const fakeId = (name: string) =>
  `${name
    .replace(/[^A-Za-z0-9]/g, "")
    .toLowerCase()
    .slice(0, 20)}${(++ids).toString(16)}`;

/** What the account already holds: answers of data sources and of reads of existing resources. */
export interface World {
  /** Data-source answers by token (`aws:apigateway/getApiKeys:getApiKeys`), given the call's inputs. */
  // biome-ignore lint/suspicious/noExplicitAny: inputs and results of arbitrary data sources
  readonly invokes?: Record<string, (inputs: Record<string, any>) => Record<string, any>>;
  /** State of existing resources read with `Resource.get`, by type (`aws:apigateway/account:Account`). */
  // biome-ignore lint/suspicious/noExplicitAny: state of arbitrary resource types
  readonly reads?: Record<string, Record<string, any>>;
}

/**
 * Evaluates the stack of `stage` and returns what it recorded. Pulumi's mock monitor is process-global:
 * synthesize one stack at a time (calls in sequence within one file are fine).
 */
export async function synthesize(
  stage: string,
  env: Record<string, string> = {},
  mode: { dev?: boolean } & World = {},
): Promise<Stack> {
  Object.assign(process.env, env);
  const resources: Recorded[] = [];
  const providerRegions = new Map<string, string>();
  const opts = new Map<string, Recorded["opts"]>();

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const id = fakeId(args.name);
        if (args.type === "pulumi:providers:aws") {
          providerRegions.set(args.name, String(args.inputs.region ?? defaultRegion));
          return { id, state: args.inputs };
        }
        const providerName = args.provider?.split("::")[3];
        const region = String(
          args.inputs.region ?? (providerName && providerRegions.get(providerName)) ?? defaultRegion,
        );
        // Only reads (`Resource.get`) carry an id: the program imports nothing.
        const read = Boolean(args.id);
        const existing = read ? (mode.reads?.[args.type] ?? {}) : {};
        const secretInputs: string[] = [];
        const inputs = Object.fromEntries(
          Object.entries(args.inputs ?? {}).map(([k, v]) => {
            const found = { secret: false };
            const clear = unsecret(v, found);
            if (found.secret) secretInputs.push(k);
            return [k, clear];
          }),
        );
        const state = { ...inputs, ...computed(args.type, id, inputs, region, testAccount), ...existing };
        resources.push({
          type: args.type,
          name: args.name,
          id: read ? String(args.id) : id,
          inputs,
          secretInputs,
          region,
          state,
          opts: {},
          read,
          dependencies: [],
        });
        return { id: read ? String(args.id) : id, state };
      },
      call(args) {
        const answer = mode.invokes?.[args.token];
        if (answer) return answer(args.inputs);
        switch (args.token) {
          case "aws:index/getCallerIdentity:getCallerIdentity":
            return {
              accountId: testAccount,
              arn: `arn:aws:iam::${testAccount}:user/test`,
              userId: "AIDTEST",
            };
          case "aws:index/getRegion:getRegion":
            return { name: defaultRegion, region: defaultRegion, id: defaultRegion };
          case "aws:index/getPartition:getPartition":
            return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
          case "aws:route53/getZone:getZone":
            return { zoneId: "ZTESTZONE", name: args.inputs.name, id: "ZTESTZONE" };
          default:
            return args.inputs;
        }
      },
    },
    "veil",
    stage,
    false,
  );

  // The mock monitor hands `newResource` no dependencies; read them off the registration request itself.
  const dependencies = new Map<string, string[]>();
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    dependencies.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList().map(keyOfUrn));
    return register(req, callback);
  };

  const g = globalThis as Record<string, unknown>;
  const component = await import("../../.sst/platform/src/components/component.ts");
  g.$util = pulumi;
  g.$interpolate = pulumi.interpolate;
  g.$concat = pulumi.concat;
  g.$output = pulumi.output;
  g.$resolve = pulumi.all;
  g.$jsonStringify = pulumi.jsonStringify;
  g.$jsonParse = pulumi.jsonParse;
  g.$asset = component.$asset;
  g.$transform = component.$transform;
  g.$config = (c: unknown) => c;
  g.$dev = mode.dev ?? false;
  g.$cli = {
    command: mode.dev ? "dev" : "deploy",
    paths: {
      root: repoRoot,
      platform: platformDir,
      work: mkdtempSync(join(process.env.VEIL_INFRA_SCRATCH ?? tmpdir(), "work-")),
    },
    home: "aws",
  };
  g.aws = platformRequire("@pulumi/aws");
  const { Function: SstFunction } = await import("../../.sst/platform/src/components/aws/function.ts");
  const { Linkable } = await import("../../.sst/platform/src/components/linkable.ts");
  g.sst = { aws: { Function: SstFunction }, Linkable };

  // biome-ignore lint/suspicious/noExplicitAny: the config object of sst.config.ts
  const config = (await import("../../sst.config.ts")).default as any;
  const app = await config.app({ stage });
  g.$app = {
    name: app.name,
    stage,
    removal: app.removal ?? "retain",
    protect: app.protect ?? false,
    providers: app.providers,
  };
  const { run } = await import("../../.sst/platform/src/auto/run.ts");
  // biome-ignore lint/suspicious/noExplicitAny: stack outputs
  let outputsRaw: Record<string, any> = {};
  await (
    pulumi.runtime as unknown as { runInPulumiStack: (f: () => Promise<unknown>) => Promise<unknown> }
  ).runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((t) => {
      opts.set(`${t.type}::${t.name}`, t.opts as Recorded["opts"]);
      return undefined;
    });
    outputsRaw = await run(() => config.run());
    return outputsRaw;
  });

  // Resources created inside `apply` register later; wait until the count stops moving.
  const settle = (pulumi.runtime as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs;
  let before = -1;
  while (before !== resources.length) {
    before = resources.length;
    await settle();
    await new Promise((r) => setTimeout(r, 20));
  }
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputsRaw ?? {})) {
    outputs[k] = pulumi.Output.isInstance(v)
      ? await new Promise((r) => (v as import("@pulumi/pulumi").Output<unknown>).apply(r))
      : v;
  }
  for (const r of resources) {
    const key = `${r.type}::${r.name}`;
    Object.assign(r.opts, opts.get(key) ?? {});
    r.dependencies.push(...(dependencies.get(key) ?? []));
  }

  return stackOf({
    resources,
    outputs,
    builds: (globalThis as { __veilBuilds?: Record<string, unknown> }).__veilBuilds ?? {},
    graph: Object.fromEntries(dependencies),
  });
}

/** The recorded data of a stack (plain values, which `node:v8` can serialize). */
export type StackData = Pick<Stack, "resources" | "outputs" | "builds" | "graph">;

/** A stack with its look-ups, over recorded data (just synthesized, or read back from a cache). */
export function stackOf(data: StackData): Stack {
  const { resources, graph } = data;
  return {
    ...data,
    ofType: (type) => resources.filter((r) => r.type === type),
    get(type, name) {
      const found = resources.find((r) => r.type === type && r.name === name);
      if (!found) throw new Error(`no ${type} named ${name}`);
      return found;
    },
    orderedAfter(resource, before) {
      const target = `${before.type}::${before.name}`;
      const seen = new Set<string>();
      const queue = [...resource.dependencies];
      for (let key = queue.pop(); key !== undefined; key = queue.pop()) {
        if (key === target) return true;
        if (seen.has(key)) continue;
        seen.add(key);
        queue.push(...(graph[key] ?? []));
      }
      return false;
    },
  };
}

/** `origins[0].customHeaders` → `["origins", 0, "customHeaders"]`. */
function pathSegments(path: string): (string | number)[] {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== "")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * What a second deploy sends for a resource it updates: the new plan's inputs, except at each of its
 * `ignoreChanges` paths, where Pulumi keeps the previous deploy's input (not the live value in AWS).
 */
// biome-ignore lint/suspicious/noExplicitAny: resolved inputs of arbitrary resource types
export function updateInputs(previous: Recorded, next: Recorded): Record<string, any> {
  const sent = structuredClone(next.inputs);
  for (const path of next.opts.ignoreChanges ?? []) {
    const segments = pathSegments(path);
    // biome-ignore lint/suspicious/noExplicitAny: walking arbitrary inputs
    let from: any = previous.inputs;
    // biome-ignore lint/suspicious/noExplicitAny: walking arbitrary inputs
    let to: any = sent;
    for (const [i, seg] of segments.entries()) {
      if (i === segments.length - 1) to[seg] = structuredClone(from?.[seg]);
      else {
        from = from?.[seg];
        to = to?.[seg];
        if (to === undefined) break;
      }
    }
  }
  return sent;
}
