/**
 * The canary scanner (`pnpm scan:canaries`) on a real stack: canaries planted through the public API
 * are found nowhere, no PII shape sits where none is expected — and with envelope encryption or log
 * redaction switched off, the scanner does find them (its own teeth).
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProofStack } from "./harness.ts";
import { recordResult } from "./results.ts";
import { plantCanaries, scanStack } from "./scanner.ts";

let pgServer: TestPostgres;

beforeAll(async () => {
  pgServer = await startTestPostgres();
});

afterAll(async () => {
  await pgServer?.stop();
});

describe("pnpm scan:canaries", () => {
  it("finds no planted canary and no stray PII in any table, column, state file or log line", async () => {
    const p = await startProofStack({ databaseUrl: pgServer.connectionString });
    try {
      const canaries = await plantCanaries(p.stack.info);
      const report = await scanStack(p.stack.info, canaries);
      recordResult({
        section: "scan",
        counts: {
          planted: report.planted,
          canaryHits: report.canaryHits.length,
          piiFindings: report.piiFindings.length,
          cells: report.scanned.cells,
          files: report.scanned.files,
          logLines: report.scanned.logLines,
        },
      });
      expect(report.scanned.logLines).toBeGreaterThan(0);
      expect(report.canaryHits).toEqual([]);
      expect(report.piiFindings).toEqual([]);
    } finally {
      await p.stop();
    }
  });

  it("does find them with envelope encryption off (database) and with log redaction off (logs)", async () => {
    for (const control of ["envelopeEncryption", "logRedaction"] as const) {
      const p = await startProofStack({ databaseUrl: pgServer.connectionString, disableControl: control });
      try {
        const report = await scanStack(p.stack.info, await plantCanaries(p.stack.info), { settleMs: 1000 });
        const where = control === "envelopeEncryption" ? "db:" : "file:";
        expect(
          report.canaryHits.some((h) => h.location.startsWith(where)),
          control,
        ).toBe(true);
        expect(report.piiFindings.length, control).toBeGreaterThan(0);
      } finally {
        await p.stop();
      }
    }
  });
});
