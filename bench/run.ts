/**
 * Runs benchmark modules and writes `bench/results.json` (a flat object of named numbers) plus a table.
 *
 *   pnpm bench:run                 every module in bench/
 *   pnpm bench:run crypto          only the named modules
 *   pnpm bench:run -- --quick      fewer rounds (smoke run)
 *   pnpm bench:run -- --strict     exit 1 when a goal is missed
 *
 * A module is any `bench/*.ts` file (not run.ts, types.ts, timing.ts, tests, or names starting with
 * `_`) whose default export is a `BenchModule` (see types.ts). Figures of modules not run this time
 * are kept from the previous results.json.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchModule, Metric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const resultsPath = join(here, "results.json");
const notModules = new Set(["run.ts", "types.ts", "timing.ts"]);

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

function goalText(metric: Metric): string {
  const { goal } = metric;
  if (!goal) return "";
  if (goal.min !== undefined && goal.max !== undefined) {
    return goal.min === goal.max ? `= ${goal.min}` : `${goal.min}..${goal.max}`;
  }
  return goal.max !== undefined ? `≤ ${goal.max}` : `≥ ${goal.min}`;
}

function meetsGoal(metric: Metric): boolean | undefined {
  const { goal, value } = metric;
  if (!goal) return undefined;
  return (goal.max === undefined || value <= goal.max) && (goal.min === undefined || value >= goal.min);
}

function printTable(rows: Row[]): void {
  const lines = rows.map((r) => {
    const ok = meetsGoal(r.metric);
    return [
      r.module,
      r.name,
      String(r.metric.value),
      r.metric.unit ?? "",
      goalText(r.metric),
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

  const previous: Record<string, number> = existsSync(resultsPath)
    ? (JSON.parse(readFileSync(resultsPath, "utf8")) as Record<string, number>)
    : {};
  const results: Record<string, number> = { ...previous };
  const rows: Row[] = [];
  const owner = new Map<string, string>();
  const started = performance.now();
  for (const [name, raw] of Object.entries(machineMetrics())) {
    const metric: Metric = typeof raw === "number" ? { value: raw } : raw;
    owner.set(name, "machine");
    results[name] = metric.value;
    rows.push({ module: "machine", name, metric });
  }

  for (const mod of selected) {
    const t0 = performance.now();
    console.error(`bench ${mod.name}: ${mod.description}`);
    const metrics = await mod.run({ quick, flags, log: (m) => console.error(`  ${mod.name}: ${m}`) });
    for (const [name, raw] of Object.entries(metrics)) {
      const metric: Metric = typeof raw === "number" ? { value: raw } : raw;
      if (!Number.isFinite(metric.value))
        throw new Error(`${mod.name}: metric ${name} is not a finite number`);
      const first = owner.get(name);
      if (first) throw new Error(`metric ${name} reported by both ${first} and ${mod.name}`);
      owner.set(name, mod.name);
      results[name] = metric.value;
      rows.push({ module: mod.name, name, metric });
    }
    console.error(`bench ${mod.name}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  const sorted = Object.fromEntries(Object.entries(results).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(resultsPath, `${JSON.stringify(sorted, null, 2)}\n`);
  printTable(rows);
  const missed = rows.filter((r) => meetsGoal(r.metric) === false);
  console.log(
    `\n${rows.length} metrics from ${selected.length} module(s) in ${((performance.now() - started) / 1000).toFixed(1)} s` +
      ` → bench/results.json${missed.length ? `; goals missed: ${missed.map((r) => r.name).join(", ")}` : ""}`,
  );
  if (strict && missed.length > 0) process.exit(1);
}

await main();
