/**
 * Load: concurrent users create, read and update records for a fixed time on a real PostgreSQL. Every
 * acknowledged write is read back and decrypts to what was sent: 0 lost, 0 mismatched, 0 5xx.
 * Throughput and latencies are reported, never asserted. `VEIL_LOAD_SECONDS` sets the duration (default 30).
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProofStack, startProofStack } from "./harness.ts";
import { runLoad } from "./load.ts";
import { recordResult } from "./results.ts";

const seconds = Number(process.env.VEIL_LOAD_SECONDS ?? 30);
let pgServer: TestPostgres;
let p: ProofStack;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  // No log probe: this measures the real handler.
  p = await startProofStack({ databaseUrl: pgServer.connectionString, logProbe: false });
});

afterAll(async () => {
  await p?.stop();
  await pgServer?.stop();
});

describe("load", () => {
  it(
    "concurrent users for a fixed time: every acknowledged write reads back equal, none lost, no 5xx",
    async () => {
      const users = [p.alice, p.bob, ...(await Promise.all(["carol", "dave"].map((n) => p.newUser(n))))];
      const report = await runLoad({
        edgeUrl: p.edgeUrl,
        users,
        durationMs: seconds * 1000,
        clientFor: p.client,
      });
      console.log(`load (${seconds} s, ${users.length} users × 2 workers):`, JSON.stringify(report));
      recordResult({
        section: "load",
        counts: {
          seconds,
          users: users.length,
          requests: report.requests,
          writesChecked: report.recordsChecked,
          acknowledgedWrites: report.acknowledgedWrites,
          lost: report.lost,
          mismatched: report.mismatched,
          serverErrors: report.serverErrors,
        },
        notes: [
          `throughput ${report.throughputPerSecond} req/s, p50 ${report.p50Ms} ms, p99 ${report.p99Ms} ms`,
        ],
      });
      expect(report.acknowledgedWrites).toBeGreaterThan(0);
      expect(report.serverErrors).toBe(0);
      expect(report.lost).toBe(0);
      expect(report.mismatched).toBe(0);
    },
    seconds * 1000 + 120_000,
  );
});
