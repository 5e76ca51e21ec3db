/**
 * Renders docs/performance.md from `bench/results.json`: the goals and headline figures with their
 * verdicts, every other figure by module, the method and the machine. `pnpm bench:run` calls it after
 * each run; `pnpm bench:report` re-renders from the last results.
 *
 *   tsx bench/report.ts [--results <file>] [--out <file>]
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type Goal, goals, goalText, headlineFigures, knownMisses, meetsGoal } from "./goals.ts";
import type { BenchResults, StoredMetric } from "./types.ts";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..");
export const resultsPath = join(here, "results.json");
export const docPath = join(repoRoot, "docs", "performance.md");

/** The last results, or none (a missing file, or one in an older format, starts afresh). */
export function readResults(path = resultsPath): BenchResults {
  if (!existsSync(path)) return { metrics: {}, runs: {} };
  const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<BenchResults>;
  if (typeof parsed.metrics !== "object" || parsed.metrics === null) return { metrics: {}, runs: {} };
  return { metrics: parsed.metrics, runs: parsed.runs ?? {} };
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A Markdown table with padded columns; `right` lists the right-aligned columns. */
export function markdownTable(header: string[], rows: string[][], right: number[] = []): string {
  const all = [header, ...rows].map((r) => r.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => [...(r[i] ?? "")].length)));
  const pad = (text: string, i: number) => {
    const fill = " ".repeat(widths[i]! - [...text].length);
    return right.includes(i) ? fill + text : text + fill;
  };
  const line = (r: string[]) => `| ${r.map((c, i) => pad(c, i)).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (right.includes(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join("\n");
}

function verdict(value: number, goal: Goal | undefined): string {
  const ok = meetsGoal(value, goal);
  return ok === undefined ? "" : ok ? "met" : "**miss**";
}

/** The table of goals and headline figures: metric, value, unit, goal, met/miss, what it measures. */
export function renderGoalTable(
  results: BenchResults,
  goalTable: Readonly<Record<string, Goal>> = goals,
  headline: readonly string[] = headlineFigures,
): string {
  const names = [...Object.keys(goalTable), ...headline.filter((n) => !(n in goalTable))];
  const rows = names.map((name) => {
    const m: StoredMetric | undefined = results.metrics[name];
    const goal = goalTable[name];
    if (!m) return [`\`${name}\``, "—", "", goalText(goal), goal ? "not measured" : "", ""];
    return [
      `\`${name}\``,
      String(m.value),
      m.unit ?? "",
      goalText(goal),
      verdict(m.value, goal),
      m.note ?? "",
    ];
  });
  return markdownTable(["metric", "value", "unit", "goal", "", "what it measures"], rows, [1]);
}

/** The reasons for the goals this run misses that have a known reason (`knownMisses`). */
export function renderMissReasons(
  results: BenchResults,
  goalTable: Readonly<Record<string, Goal>> = goals,
  reasons: Readonly<Record<string, string>> = knownMisses,
): string {
  const missed = Object.keys(goalTable).filter((name) => {
    const m = results.metrics[name];
    return m !== undefined && meetsGoal(m.value, goalTable[name]) === false;
  });
  const lines = missed.map((name) => `- \`${name}\`: ${reasons[name] ?? "no known reason: investigate."}`);
  return lines.length === 0 ? "" : `\n\nWhy goals are missed:\n\n${lines.join("\n")}`;
}

/** Every figure not in the goal table, grouped by module. */
export function renderAllFigures(results: BenchResults): string {
  const shown = new Set([...Object.keys(goals), ...headlineFigures]);
  const byModule = new Map<string, Array<[string, StoredMetric]>>();
  for (const [name, m] of Object.entries(results.metrics)) {
    if (shown.has(name) || m.module === "machine") continue;
    byModule.set(m.module, [...(byModule.get(m.module) ?? []), [name, m]]);
  }
  return [...byModule]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([module, list]) => {
      const run = results.runs[module];
      const how = run ? ` (${run.quick ? "quick run, " : ""}${run.seconds} s)` : "";
      const table = markdownTable(
        ["metric", "value", "unit", "what it measures"],
        list.map(([name, m]) => [`\`${name}\``, String(m.value), m.unit ?? "", m.note ?? ""]),
        [1],
      );
      return `### ${module}${how}\n\n${table}`;
    })
    .join("\n\n");
}

/** The machine, from the `machine_*` figures the runner records. */
export function renderMachine(results: BenchResults): string {
  const m = (name: string) => results.metrics[name];
  const cores = m("machine_cores");
  if (!cores) return "No machine recorded (run `pnpm bench:run`).";
  const node = m("machine_node_major")?.note ?? "Node ?";
  const memory = m("machine_memory_gib");
  const load = m("machine_load_1m_at_start");
  return [
    `- CPU: ${cores.value} cores${cores.note ? `, ${cores.note}` : ""}`,
    `- Memory: ${memory ? `${memory.value} GiB` : "?"}`,
    `- Runtime: ${node} (Lambda runs \`nodejs22.x\`)`,
    `- Load average (1 min) when the run began: ${load ? load.value : "?"}`,
  ].join("\n");
}

const method = `Times are taken in **interleaved rounds** (\`bench/timing.ts\`): the cases of a module run one
after the other, round after round, so a burst of work from another process hits all of them alike;
each case reports its fastest round. Absolute times drift between machines and between runs on shared
cores, so every goal is a **ratio of two figures measured in the same run**, a count or a size — never
an absolute time. Counts (KMS calls) and sizes (bundles, memory) are exact, not timed. Tests assert
no times (bundle sizes have budgets of their own).

**The peer baseline** (\`bench/peer/\`) is the records-create handler a team would write from AWS's
documentation, with the same validation, database writes, token verifier and logger as ours, so only
the crypto and AWS clients differ: the stock Encryption SDK client (\`buildClient\` of
\`@aws-crypto/client-node\`) decrypts each CloudFront FLE field separately with a \`RawRsaKeyringNode\`
(RSA-OAEP-SHA256, the key parsed once) under \`REQUIRE_ENCRYPT_ALLOW_DECRYPT\`, then encrypts the
record's sensitive fields through the stock \`NodeCachingMaterialsManager\` (local cache, the same age,
message and byte bounds as ours) over a \`KmsKeyringNode\`, with the per-record encryption context
\`{app, stage, ownerId, recordId, purpose}\` — so its cache misses on every record — and the same
algorithm suite as ours (the SDK's default suite would add an ECDSA signature per record); the FLE
private key comes from Secrets Manager; KMS and Secrets Manager are reached with the AWS SDK v3 clients.
It is bundled with the production esbuild options of \`functions/build.ts\`. **Ours** is the records
handler and the public API of \`@veil/crypto\` it calls (\`decryptFleForm\`,
\`createInMemoryEnvelopeCrypto\`). Both talk to the same local KMS and Secrets Manager emulators of
\`packages/local\` (KMS call counts, cold start), or to the in-process KMS stand-in of
\`@veil/crypto/testing\` (CPU figures: the peer's create then includes the stand-in's work for its
GenerateDataKey, but no network and no SDK client).

**Handler ready** (\`handler_init_vs_peer\`): in each of 10 (quick run: 4) fresh \`node\` processes per handler,
alternating ours and the peer's, with only a Lambda-like environment, the time from the start of the
bundle's \`import()\` until the handler has answered its first invocation: a create request without a
token, which makes it build every dependency the first call needs (the FLE private key read from
Secrets Manager, the KMS keyring and client, the materials cache, the database pool object, the token
verifier) and stop at authentication with 401. No KMS, database or key-set request is made; the only
requests are the Secrets Manager reads (ours reads the current and, for key rotation, the previous
version; the peer the current), answered on loopback by the local emulator, the same for both.
The figure is the median of ours ÷ the median of the peer's.

\`bench/README.md\` describes the modules, the flags and how to add a figure.`;

/** The whole of docs/performance.md. */
export function renderPerformanceDoc(results: BenchResults): string {
  const quick = Object.entries(results.runs)
    .filter(([, r]) => r.quick)
    .map(([m]) => `\`${m}\``);
  const quickNote =
    quick.length > 0
      ? `\n\nFigures of ${quick.join(", ")} come from a quick run (\`--quick\`: fewer rounds and shorter loads), so they are rougher.`
      : "";
  return `# Performance

<!-- Generated by \`pnpm bench:report\` from bench/results.json (\`pnpm bench:run\` does it after each run). Do not edit. -->

What the secure request costs, measured by \`pnpm bench\` and compared with a peer baseline that uses the
AWS Encryption SDK and AWS SDK as their documentation shows. History is in \`CHANGELOG.md\`, decisions
with their measurements in \`docs/adr/\`.

## Goals and headline figures

${renderGoalTable(results)}${renderMissReasons(results)}${quickNote}

## Method

${method}

## The machine

${renderMachine(results)}

## Every figure

${renderAllFigures(results)}
`;
}

/** Renders `results` into `out` and returns the path written, relative to the repository. */
export function writeReport(results: BenchResults, out = docPath): string {
  writeFileSync(out, renderPerformanceDoc(results));
  return relative(repoRoot, out);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: { results: { type: "string" }, out: { type: "string" } },
  });
  const results = readResults(values.results ? resolve(values.results) : resultsPath);
  if (Object.keys(results.metrics).length === 0) {
    console.error("no bench/results.json yet: run `pnpm bench:run` first");
    process.exit(1);
  }
  console.error(`rendered ${writeReport(results, values.out ? resolve(values.out) : docPath)}`);
}
