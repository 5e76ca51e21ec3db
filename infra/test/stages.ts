/**
 * The three shared stages synthesized one after another in one test file (the mock monitor is
 * process-global, so never in parallel), for suites that compare stages or assert each of them.
 */
import { type Stack, synthesize } from "./harness.ts";

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
