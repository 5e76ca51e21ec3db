/**
 * Vitest global setup of the infra project: a folder for this run's shared stacks (stages.ts
 * `sharedStack`), so each shared stage is synthesized once per run rather than once per test file,
 * and removed when the run ends. A new run always synthesizes afresh.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "veil-infra-stacks-"));
  project.provide("infraStackCache", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
