/**
 * The three shared stages: synthesized one after another in one test file (the mock monitor is
 * process-global, so never in parallel), or once per test run for all files (`sharedStack`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { inject } from "vitest";
import { repoRoot, type Stack, type StackData, stackOf, synthesize } from "./harness.ts";

export const sharedStages = ["dev", "sit", "prod"] as const;
export type SharedStage = (typeof sharedStages)[number];

/** Synthesizes dev, sit and prod in turn; returns the stacks by stage. */
export async function synthesizeStages(
  env: Record<string, string> = {},
): Promise<Record<SharedStage, Stack>> {
  const stacks: Partial<Record<SharedStage, Stack>> = {};
  const g = globalThis as { __veilBuilds?: Record<string, unknown> };
  for (const stage of sharedStages) {
    // The stand-in build records what SST was asked per function in one global: one map per stage.
    g.__veilBuilds = {};
    const stack = await synthesize(stage, env);
    stacks[stage] = { ...stack, builds: g.__veilBuilds };
  }
  return stacks as Record<SharedStage, Stack>;
}

/** The code-signing configuration the shared stacks are deployed with (prod signs its functions). */
export const codeSigning =
  "arn:aws:lambda:eu-central-2:123456789012:code-signing-config:csc-0123456789abcdef0";

/** A shared stage's stack and the edge signer bundle its synthesis built. */
export interface SharedStack extends Stack {
  /** The text of `.sst/artifacts/edge-signer-<stage>/index.mjs` as this synthesis wrote it. */
  readonly edgeBundle: string;
}
type SharedData = StackData & { readonly edgeBundle: string };

// The environment the test file started with: a shared stack never sees what a file's own syntheses set.
const startEnv = { ...process.env };
const loaded = new Map<SharedStage, Promise<SharedStack>>();

/**
 * The stack of a shared stage (with a code-signing configuration), synthesized once per test run: the
 * first file to ask synthesizes it and writes it to the run's cache folder (made by
 * stack-cache.global-setup.ts); every other file reads it back. A folder lock keeps parallel workers
 * from synthesizing the same stage twice.
 */
export function sharedStack(stage: SharedStage): Promise<SharedStack> {
  let stack = loaded.get(stage);
  if (!stack) {
    stack = load(stage).then((data) => ({ ...stackOf(data), edgeBundle: data.edgeBundle }));
    loaded.set(stage, stack);
  }
  return stack;
}

async function load(stage: SharedStage): Promise<SharedData> {
  const dir = inject("infraStackCache");
  if (!dir) return synthesizeShared(stage);
  const file = join(dir, `${stage}.v8`);
  const lock = join(dir, `${stage}.lock`);
  for (;;) {
    if (existsSync(file)) return deserialize(readFileSync(file)) as SharedData;
    try {
      mkdirSync(lock);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    try {
      if (existsSync(file)) continue;
      const data = await synthesizeShared(stage);
      writeFileSync(`${file}.tmp`, serialize(cloneable(data)));
      renameSync(`${file}.tmp`, file);
      return data;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

async function synthesizeShared(stage: SharedStage): Promise<SharedData> {
  const edgeBundle = join(repoRoot, ".sst", "artifacts", `edge-signer-${stage}`, "index.mjs");
  // The real edge/build.ts runs during synthesis: remove any earlier bundle, so the one read is its own.
  rmSync(edgeBundle, { force: true });
  const before = { ...process.env };
  setEnv({ ...startEnv, VEIL_CODE_SIGNING_CONFIG_ARN: codeSigning });
  const g = globalThis as { __veilBuilds?: Record<string, unknown> };
  g.__veilBuilds = {};
  try {
    const { resources, outputs, builds, graph } = await synthesize(stage);
    // Of the resource options, what `Recorded` declares (the rest holds parents and providers).
    const recorded = resources.map((r) => {
      const { protect, retainOnDelete, ignoreChanges, customTimeouts } = r.opts;
      return { ...r, opts: { protect, retainOnDelete, ignoreChanges, customTimeouts } };
    });
    return { resources: recorded, outputs, builds, graph, edgeBundle: readFileSync(edgeBundle, "utf8") };
  } finally {
    setEnv(before);
  }
}

/**
 * `value` with each function (SST hands some to the build, such as transforms) replaced by a marker
 * string, which `node:v8` can serialize and an assertion that something is absent still sees.
 */
function cloneable<V>(value: V, seen = new Map<object, unknown>()): V {
  if (typeof value === "function") return `[function ${value.name}]` as V;
  if (value === null || typeof value !== "object") return value;
  // Values node:v8 clones as they are; every other object is copied as its own enumerable properties.
  if (value instanceof Date || value instanceof Map || value instanceof Set || ArrayBuffer.isView(value))
    return value;
  const known = seen.get(value);
  if (known) return known as V;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) (copy as Record<string, unknown>)[k] = cloneable(v, seen);
  return copy as V;
}

/** Makes `process.env` exactly `env`. */
function setEnv(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  Object.assign(process.env, env);
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The folder holding this run's shared stacks (stack-cache.global-setup.ts). */
    infraStackCache: string;
  }
}
