/**
 * Size budgets of the deployable bundles, built by the real build scripts: the records handler as
 * production bundles it (functions/build.ts) and the Lambda@Edge signer (edge/build.ts, 30 KB). Sizes
 * are deterministic, so these are plain assertions; times are never asserted.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { bundleHandler, recordsBundleBudgetKb, weightByPackage } from "./build.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * Packages that must put no byte into the records bundle. (The Encryption SDK client's own
 * dependencies — its stream pipeline, bn.js and asn1.js — are needed and allowed.)
 */
const unwanted = /^(pgpass|split2)$/;

/** The input files matching `pattern` that put bytes into the output. */
function filesIn(metafile: Metafile, pattern: RegExp): string[] {
  return Object.values(metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs)
      .filter(([file, { bytesInOutput }]) => bytesInOutput > 0 && pattern.test(file))
      .map(([file]) => file),
  );
}

/** The npm packages matching `pattern` that put bytes into the output. */
function packagesIn(metafile: Metafile, pattern: RegExp): string[] {
  return weightByPackage(metafile)
    .filter((p) => p.bytes > 0 && pattern.test(p.name))
    .map((p) => p.name)
    .sort();
}
const dir = mkdtempSync(join(tmpdir(), "veil-budget-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bundle size budgets", () => {
  it(`the records handler stays within ${recordsBundleBudgetKb} KB`, async () => {
    const bundle = await bundleHandler("records", join(dir, "records", "index.mjs"));
    const heaviest = weightByPackage(bundle.metafile)
      .slice(0, 8)
      .map((p) => `${p.name} ${(p.bytes / 1024).toFixed(0)} KB`);
    expect(bundle.bytes / 1024, heaviest.join(", ")).toBeLessThanOrEqual(recordsBundleBudgetKb);
    const code = readFileSync(bundle.outfile, "utf8");
    // Packages that once slipped in through the Encryption SDK umbrella and the aggregated KMS client.
    expect(code).not.toMatch(/DynamoDB|ListKeyRotations/);
    // What the records handler never runs: pg's native binding and .pgpass reader
    // (functions/esbuild-plugins.mjs).
    expect(packagesIn(bundle.metafile, unwanted)).toEqual([]);
    expect(filesIn(bundle.metafile, /node_modules\/pg\/lib\/native\//)).toEqual([]);
  }, 60_000);

  it("the check sees those packages when they are there (a bundle without the plugins)", async () => {
    const bundle = await bundleHandler("records", join(dir, "records-stock", "index.mjs"), { plugins: [] });
    expect(packagesIn(bundle.metafile, unwanted)).toEqual(["pgpass", "split2"]);
    expect(filesIn(bundle.metafile, /node_modules\/pg\/lib\/native\//).length).toBeGreaterThan(0);
  }, 60_000);

  it("the edge signer stays within 30 KB and has no AWS SDK in it", () => {
    const outfile = join(dir, "edge", "index.mjs");
    execFileSync(
      join(here, "..", "node_modules", ".bin", "tsx"),
      [join(here, "..", "edge", "build.ts"), "--region", "eu-west-1", "--outfile", outfile],
      { stdio: "pipe" },
    );
    expect(statSync(outfile).size).toBeLessThanOrEqual(30 * 1024);
    expect(readFileSync(outfile, "utf8")).not.toMatch(/@aws-sdk|@smithy|@aws-crypto/);
  }, 60_000);
});
