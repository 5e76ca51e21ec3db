/**
 * Runs benchmark modules, writes `bench/results.json` (every figure with its unit, note and module),
 * prints a table, and renders docs/performance.md from the results (`report.ts`).
 *
 *   pnpm bench:run                 every module in bench/
 *   pnpm bench:run crypto          only the named modules
 *   pnpm bench:run -- --quick      fewer rounds (smoke run)
 *   pnpm bench:run -- --strict     exit 1 when a goal is missed
 *   pnpm bench:run -- --no-report  leave docs/performance.md as it is
 *
 * A module is any `bench/*.ts` file (not run.ts, types.ts, timing.ts, goals.ts, report.ts, tests, or
 * names starting with `_`) whose default export is a `BenchModule` (see types.ts). Figures of modules
 * not run this time are kept from the previous results.json. Goals come from goals.ts.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { goals, goalText, meetsGoal } from "./goals.ts";
import { readResults, resultsPath, writeReport } from "./report.ts";
import type { BenchModule, BenchResults, Metric, StoredMetric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const notModules = new Set(["run.ts", "types.ts", "timing.ts", "goals.ts", "report.ts"]);

interface Row {
  module: string;
  name: string;
  metric: Metric;
}

/** The machine the figures were taken on, read now (results.json holds numbers only). */
function machineMetrics(): Record<string, Metric | number> {
  const [major = 0, minor = 0, patch = 0] = process.versions.node.split(".").map(Number);
  return {
    machine_cores: { value: availableParallelism(), unit: "cores", note: cpus()[0]?.model.trim() ?? "" },
    machine_node_major: { value: major, note: `Node ${process.versions.node}` },
    machine_node_minor: minor,
    machine_node_patch: patch,
    machine_memory_gib: { value: Math.round(totalmem() / 2 ** 30), unit: "GiB" },
    machine_load_1m_at_start: {
      value: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      note: "other work on the machine when the run began",
    },
  };
}

async function loadModules(): Promise<BenchModule[]> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("_") && !notModules.has(f))
    .sort();
  const modules: BenchModule[] = [];
  for (const file of files) {
    const loaded = (await import(pathToFileURL(join(here, file)).href)) as { default?: BenchModule };
    const mod = loaded.default;
    if (!mod || typeof mod.run !== "function" || typeof mod.name !== "string") {
      throw new Error(`bench/${file} does not export a BenchModule as default`);
    }
    modules.push(mod);
  }
  return modules;
}

function printTable(rows: Row[]): void {
  const lines = rows.map((r) => {
    const ok = meetsGoal(r.metric.value, goals[r.name]);
    return [
      r.module,
      r.name,
      String(r.metric.value),
      r.metric.unit ?? "",
      goalText(goals[r.name]),
      ok === undefined ? "" : ok ? "ok" : "MISS",
      r.metric.note ?? "",
    ];
  });
  const header = ["module", "metric", "value", "unit", "goal", "", "what"];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(format(l));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== "--");
  const quick = args.includes("--quick");
  const strict = args.includes("--strict");
  const wanted = args.filter((a) => !a.startsWith("--"));
  const flags = new Set(args.filter((a) => a.startsWith("--")));

  const all = await loadModules();
  const unknown = wanted.filter((w) => !all.some((m) => m.name === w));
  if (unknown.length > 0) {
    console.error(
      `unknown bench module(s): ${unknown.join(", ")}; have: ${all.map((m) => m.name).join(", ")}`,
    );
    process.exit(2);
  }
  const selected = wanted.length > 0 ? all.filter((m) => wanted.includes(m.name)) : all;

  const previous = readResults();
  const metrics: Record<string, StoredMetric> = { ...previous.metrics };
  const runs: Record<string, BenchResults["runs"][string]> = { ...previous.runs };
  const rows: Row[] = [];
  const owner = new Map<string, string>();
  const started = performance.now();
  for (const [name, raw] of Object.entries(machineMetrics())) {
    const metric: Metric = typeof raw === "number" ? { value: raw } : raw;
    owner.set(name, "machine");
    metrics[name] = { ...metric, module: "machine" };
    rows.push({ module: "machine", name, metric });
  }

  for (const mod of selected) {
    const t0 = performance.now();
    console.error(`bench ${mod.name}: ${mod.description}`);
    const figures = await mod.run({ quick, flags, log: (m) => console.error(`  ${mod.name}: ${m}`) });
    // A module's figures replace all of its previous ones (a renamed figure leaves nothing behind).
    for (const [name, stored] of Object.entries(metrics))
      if (stored.module === mod.name) delete metrics[name];
    for (const [name, raw] of Object.entries(figures)) {
      const metric: Metric = typeof raw === "number" ? { value: raw } : raw;
      if (!Number.isFinite(metric.value))
        throw new Error(`${mod.name}: metric ${name} is not a finite number`);
      const first = owner.get(name);
      if (first) throw new Error(`metric ${name} reported by both ${first} and ${mod.name}`);
      owner.set(name, mod.name);
      metrics[name] = { ...metric, module: mod.name };
      rows.push({ module: mod.name, name, metric });
    }
    const seconds = Math.round((performance.now() - t0) / 100) / 10;
    runs[mod.name] = { quick, seconds };
    console.error(`bench ${mod.name}: done in ${seconds.toFixed(1)} s`);
  }

  const results: BenchResults = {
    // By module, each module's figures in the order it reports them (a stable sort keeps that order).
    metrics: Object.fromEntries(
      Object.entries(metrics).sort(([, a], [, b]) => a.module.localeCompare(b.module)),
    ),
    runs: Object.fromEntries(Object.entries(runs).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(resultsPath, `${JSON.stringify(results, null, 2)}\n`);
  printTable(rows);
  if (!flags.has("--no-report")) console.error(`rendered ${writeReport(results)}`);
  const missed = rows.filter((r) => meetsGoal(r.metric.value, goals[r.name]) === false);
  console.log(
    `\n${rows.length} metrics from ${selected.length} module(s) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      ` → bench/results.json${missed.length ? `; goals missed: ${missed.map((r) => r.name).join(", ")}` : ""}`,
  );
  if (strict && missed.length > 0) process.exit(1);
}

await main();
