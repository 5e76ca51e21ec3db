/**
 * Keeps docs/threat-model.md honest: every file it names exists, every `path#name` names something in
 * that file, every quoted test is a test of the named file, every `control:` is a switchable control with
 * a security check, and every control is claimed by some threat. Edit code or doc, and this notices.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { securityChecks } from "./checks.ts";
import { controlNames } from "./controls.ts";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
const doc = readFileSync(join(repoRoot, "docs/threat-model.md"), "utf8");

interface Row {
  readonly id: string;
  readonly cells: string[];
}

/** The threat table: rows whose first cell is a threat id (T1, T9a, …). */
export function threatRows(markdown: string): Row[] {
  return markdown
    .split("\n")
    .filter((l) => /^\|\s*T\d+[a-z]?\s+\|/.test(l))
    .map((l) => {
      const cells = l
        .replace(/^\|/, "")
        .replace(/\|\s*$/, "")
        .split(/\s\|\s/)
        .map((c) => c.trim());
      return { id: cells[0] ?? "", cells };
    });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const rows = threatRows(doc);

describe("docs/threat-model.md", () => {
  it("has a data-flow diagram and a row for each threat of the threat list", () => {
    expect(doc).toContain("```mermaid");
    const text = rows.map((r) => r.cells[1] ?? "").join("\n");
    for (const threat of [
      /interception/i,
      /bypassing CloudFront/i,
      /guessing/i,
      /replaying/i,
      /in transit/i,
      /at rest/i,
      /in memory/i,
      /developer touching production/i,
      /by region/i,
      /key-policy change/i,
      /code change/i,
      /through logs/i,
      /account takeover/i,
      /IDOR/,
    ])
      expect(text, String(threat)).toMatch(threat);
    for (const r of rows) expect(r.cells, r.id).toHaveLength(6);
  });

  it("names only files that exist, and symbols that are in them", () => {
    for (const r of rows) {
      for (const cell of [r.cells[3] ?? "", r.cells[4] ?? ""]) {
        for (const [, ref] of cell.matchAll(/`([^`]+)`/g)) {
          const [path = "", symbol] = (ref ?? "").split("#");
          const full = join(repoRoot, path);
          expect(existsSync(full), `${r.id}: ${path} does not exist`).toBe(true);
          if (symbol) {
            expect(statSync(full).isFile()).toBe(true);
            expect(readFileSync(full, "utf8"), `${r.id}: ${symbol} not in ${path}`).toMatch(
              new RegExp(`\\b${escapeRegExp(symbol)}\\b`),
            );
          }
        }
      }
    }
  });

  it("names only tests that exist in the named test files, and controls that can be switched off", () => {
    let proofs = 0;
    for (const r of rows) {
      const items = (r.cells[5] ?? "").split("<br>").map((s) => s.trim());
      expect(items.length, `${r.id} has no proof`).toBeGreaterThan(0);
      for (const item of items) {
        proofs += 1;
        const control = /^control:(\w+)$/.exec(item);
        if (control) {
          expect(controlNames as readonly string[], `${r.id}: ${item}`).toContain(control[1]);
          continue;
        }
        const m = /^`([^`]+)` › "(.+)"$/.exec(item);
        expect(m, `${r.id}: cannot read proof '${item}'`).not.toBeNull();
        const [, file = "", name = ""] = m ?? [];
        const full = join(repoRoot, file);
        expect(existsSync(full), `${r.id}: ${file} does not exist`).toBe(true);
        const text = readFileSync(full, "utf8");
        const declared = new RegExp(`\\b(?:it|test)(?:\\.\\w+)?\\(\\s*(["'\`])${escapeRegExp(name)}\\1`);
        expect(declared.test(text), `${r.id}: no test "${name}" in ${file}`).toBe(true);
      }
    }
    expect(proofs).toBeGreaterThan(40);
  });

  it("claims every control, each with a security check run on a normal stack and with the control off", () => {
    const claimed = new Set([...doc.matchAll(/control:(\w+)/g)].map((m) => m[1]));
    for (const c of controlNames) {
      expect(claimed.has(c), `control ${c} is in no threat row`).toBe(true);
      expect(securityChecks[c].title.length).toBeGreaterThan(10);
    }
    for (const file of ["controls.int.test.ts", "teeth.int.test.ts"]) {
      const text = readFileSync(join(dirname(fileURLToPath(import.meta.url)), file), "utf8");
      expect(text, file).toContain("for (const control of controlNames)");
    }
  });
});
