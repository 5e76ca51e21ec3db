/**
 * The shape every benchmark module exports (as `default`), and of `bench/results.json`. `bench/run.ts`
 * finds the modules, runs them in one process, one after the other, merges their figures into
 * `bench/results.json` and renders docs/performance.md from it (`bench/report.ts`). Goals live in
 * `bench/goals.ts`, not in the modules.
 */

/** One figure. Plain numbers are accepted for figures without unit or note. */
export interface Metric {
  readonly value: number;
  /** e.g. "µs", "MiB/s", "×", "calls", "KB". */
  readonly unit?: string;
  /** One line on what it measures, printed in the table and the report. */
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

/** A figure as stored in results.json: the metric and the module that measured it. */
export interface StoredMetric extends Metric {
  readonly module: string;
}

/** `bench/results.json`. */
export interface BenchResults {
  /** Every figure by name, grouped by module, each module's in the order it reported them. */
  readonly metrics: Readonly<Record<string, StoredMetric>>;
  /** How each module was last run. */
  readonly runs: Readonly<Record<string, { readonly quick: boolean; readonly seconds: number }>>;
}
