/**
 * Size budgets of the deployable bundles, built by the real build scripts: every function of the
 * manifest as production bundles it (functions/build.ts) and the Lambda@Edge signer (edge/build.ts,
 * 30 KB). Sizes are deterministic, so these are plain assertions; times are never asserted.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBundles, bundleBudgetsKb, type HandlerBundle, weightByPackage } from "./build.ts";
import { type FunctionName, functionNames, type LinkName, manifest } from "./manifest.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * Packages no function should carry: the AWS SDK v2, the Encryption SDK's umbrella and what only its
 * hierarchical keyring uses (the DynamoDB client, the branch key store). The stock Encryption SDK's
 * own modules (bn.js, asn1.js, readable-stream, …) and pg's (pgpass, split2) are fine.
 */
const accidental =
  /^(aws-sdk|@aws-crypto\/client-node|@aws-crypto\/branch-keystore-node|@aws-sdk\/client-dynamodb)$/;

/** The npm packages matching `pattern` that put bytes into the output. */
function packagesIn(metafile: Metafile, pattern: RegExp): string[] {
  return weightByPackage(metafile)
    .filter((p) => p.bytes > 0 && pattern.test(p.name))
    .map((p) => p.name)
    .sort();
}

// Every link name, checked by the compiler: a new one in the manifest type must be listed here.
const linkNames = Object.keys({
  RecordsKey: true,
  Database: true,
  DatabaseMaster: true,
  UserPool: true,
  UserPoolClient: true,
  FleKey: true,
  IdempotencySecret: true,
  FlePublicKey: true,
  ImagesBucket: true,
  InboxBucket: true,
  RotationTarget: true,
} satisfies Record<LinkName, true>) as LinkName[];

/** The link names a minified bundle reads (`linked("X")`, `Resource.X`). */
function linksRead(code: string): string[] {
  const found = code.match(new RegExp(`[".](${linkNames.join("|")})\\b`, "g")) ?? [];
  return [...new Set(found.map((m) => m.slice(1)))].sort();
}

const dir = mkdtempSync(join(tmpdir(), "veil-budget-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bundles = new Map<FunctionName, HandlerBundle>();
beforeAll(async () => {
  for (const b of await buildBundles({ outdir: dir })) bundles.set(b.name, b);
}, 240_000);

describe("bundle size budgets", () => {
  it("every function of the manifest has a budget, and only those", () => {
    expect(Object.keys(bundleBudgetsKb).sort()).toEqual([...functionNames].sort());
  });

  it.each(functionNames)("%s stays within its budget", (name) => {
    const bundle = bundles.get(name);
    if (!bundle) throw new Error(`${name} was not built`);
    const heaviest = weightByPackage(bundle.metafile)
      .slice(0, 8)
      .map((p) => `${p.name} ${(p.bytes / 1024).toFixed(0)} KB`);
    expect(bundle.bytes / 1024, heaviest.join(", ")).toBeLessThanOrEqual(bundleBudgetsKb[name]);
    expect(packagesIn(bundle.metafile, accidental), name).toEqual([]);
  });

  it("the records handler reaches AWS through @veil/aws only: no AWS SDK client, no aggregated KMS client", () => {
    const bundle = bundles.get("records");
    if (!bundle) throw new Error("records was not built");
    expect(packagesIn(bundle.metafile, /^@aws-sdk\/|^@smithy\//)).toEqual([]);
    expect(readFileSync(bundle.outfile, "utf8")).not.toMatch(/DynamoDB|ListKeyRotations/);
  });

  it.each(functionNames)("%s reads exactly the links of its manifest entry", (name) => {
    const bundle = bundles.get(name);
    if (!bundle) throw new Error(`${name} was not built`);
    expect(linksRead(readFileSync(bundle.outfile, "utf8"))).toEqual([...manifest[name].links].sort());
  });

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
