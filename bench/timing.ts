/**
 * Timing for benchmarks on shared, noisy machines: cases are run in alternating rounds (so a burst of
 * load hits all of them alike) and each reports the fastest round per operation — the figure least
 * inflated by other processes — plus the median round.
 */

export interface TimedCase {
  /** One operation. May be async. */
  readonly run: () => unknown;
  /** Operations per round; pick so a round takes a few milliseconds at least. */
  readonly batch: number;
}

export interface Timing {
  /** Fastest round, microseconds per operation. */
  readonly bestUs: number;
  /** Median round, microseconds per operation. */
  readonly medianUs: number;
  /** CPU time of this process (every thread, e.g. the thread pool's) in the round of least CPU, per operation. */
  readonly bestCpuUs: number;
  /** Median round's CPU time per operation. */
  readonly medianCpuUs: number;
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs every case `rounds` times (after one warm-up round), interleaved. */
export async function timeCases<K extends string>(
  cases: Record<K, TimedCase>,
  rounds: number,
): Promise<Record<K, Timing>> {
  const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as number[]])) as Record<
    K,
    number[]
  >;
  const cpuSamples = Object.fromEntries(Object.keys(cases).map((k) => [k, [] as number[]])) as Record<
    K,
    number[]
  >;
  for (let round = -1; round < rounds; round++) {
    for (const key of Object.keys(cases) as K[]) {
      const { run, batch } = cases[key];
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (let i = 0; i < batch; i++) {
        const result = run();
        if (result instanceof Promise) await result;
      }
      const us = Number(process.hrtime.bigint() - start) / 1000 / batch;
      const used = process.cpuUsage(cpu);
      if (round >= 0) {
        samples[key].push(us);
        cpuSamples[key].push((used.user + used.system) / batch);
      }
    }
  }
  return Object.fromEntries(
    (Object.keys(cases) as K[]).map((k) => [
      k,
      {
        bestUs: Math.min(...samples[k]),
        medianUs: median(samples[k]),
        bestCpuUs: Math.min(...cpuSamples[k]),
        medianCpuUs: median(cpuSamples[k]),
      },
    ]),
  ) as Record<K, Timing>;
}

/** Rounds a figure for display and for results.json. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
