/**
 * The shape every benchmark module exports (as `default`). `bench/run.ts` finds the modules, runs
 * them in one process, one after the other, and merges their metrics into `bench/results.json`.
 */

/** What a metric should be; the table marks a miss. */
export interface Goal {
  readonly max?: number;
  readonly min?: number;
}

/** One figure. Plain numbers are accepted for metrics without unit or goal. */
export interface Metric {
  readonly value: number;
  /** e.g. "µs", "MiB/s", "×", "calls", "bytes". */
  readonly unit?: string;
  readonly goal?: Goal;
  /** One line on what it measures, printed in the table. */
  readonly note?: string;
}

export interface BenchContext {
  /** `--quick`: fewer rounds, for a smoke run; figures are rougher. */
  readonly quick: boolean;
  /** Progress output (stderr), so stdout stays the table. */
  log(message: string): void;
  /** The command line's `--flags` (e.g. `--against-dev`), for modules with options of their own. */
  readonly flags: ReadonlySet<string>;
}

export interface BenchModule {
  /** Short name used on the command line (`pnpm bench:run crypto`). */
  readonly name: string;
  readonly description: string;
  /** Metric names are global in results.json: prefix them unless a name is fixed by a goal. */
  run(context: BenchContext): Promise<Record<string, Metric | number>>;
}
