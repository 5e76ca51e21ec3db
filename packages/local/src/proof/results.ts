/**
 * Counters the proof tests leave behind for `pnpm proof:report` (docs/security-tests.md). Written only
 * when `VEIL_PROOF_RESULTS` names a folder; each call adds one JSON file, so parallel writers never clash.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const resultsEnv = "VEIL_PROOF_RESULTS";

/** One block of counters, e.g. `{ section: "faults", counts: { injected: 12 } }`. */
export interface ProofResult {
  readonly section: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly notes?: readonly string[];
}

/** Saves a result when the report command asked for them; a no-op otherwise. */
export function recordResult(result: ProofResult): void {
  const dir = process.env[resultsEnv];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const name = `${result.section}-${Date.now()}-${randomBytes(3).toString("hex")}.json`;
  writeFileSync(join(dir, name), JSON.stringify(result));
}

/** Reads every saved result, counters of one section added up, notes appended. */
export function readResults(dir: string): Map<string, { counts: Record<string, number>; notes: string[] }> {
  const out = new Map<string, { counts: Record<string, number>; notes: string[] }>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const r = JSON.parse(readFileSync(join(dir, file), "utf8")) as ProofResult;
    const into = out.get(r.section) ?? { counts: {}, notes: [] };
    for (const [k, v] of Object.entries(r.counts)) into.counts[k] = (into.counts[k] ?? 0) + v;
    into.notes.push(...(r.notes ?? []));
    out.set(r.section, into);
  }
  return out;
}
