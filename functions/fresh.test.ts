/**
 * Bundle freshness: a bundle is rebuilt when it is missing, of another flavour, or older than one of
 * the files it was built from — and only then.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { ensureBundles } from "./build.ts";
import { isFresh, recordBuildInputs } from "./fresh.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-fresh-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = { flavour: "test", overrides: "{}" };

/** A fake build of `name` from one source file last changed a minute ago. */
function built(name: string): { outfile: string; input: string } {
  const input = join(dir, `${name}-source.ts`);
  writeFileSync(input, "export const a = 1;\n");
  const past = new Date(Date.now() - 60_000);
  utimesSync(input, past, past);
  const outfile = join(dir, name, "index.mjs");
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(outfile, "export const a = 1;\n");
  const metafile = { inputs: { [input]: { bytes: 1, imports: [] } }, outputs: {} } as unknown as Metafile;
  recordBuildInputs(outfile, metafile, settings, Date.now());
  return { outfile, input };
}

describe("bundle freshness", () => {
  it("is fresh right after a build, stale when an input changes, goes missing or the flavour differs", () => {
    const { outfile, input } = built("a");
    expect(isFresh(outfile, settings)).toBe(true);
    expect(isFresh(outfile, { ...settings, flavour: "production" })).toBe(false);
    expect(isFresh(outfile, { ...settings, overrides: '{"define":{}}' })).toBe(false);
    const later = new Date(Date.now() + 5_000);
    utimesSync(input, later, later);
    expect(isFresh(outfile, settings)).toBe(false);
    rmSync(input);
    expect(isFresh(outfile, settings)).toBe(false);
    expect(isFresh(join(dir, "never", "index.mjs"), settings)).toBe(false);
  });

  it("ensureBundles builds a missing bundle, then leaves it alone", async () => {
    const outdir = join(dir, "bundles");
    expect(await ensureBundles({ outdir, names: ["fle-key-bootstrap"] })).toEqual(["fle-key-bootstrap"]);
    expect(await ensureBundles({ outdir, names: ["fle-key-bootstrap"] })).toEqual([]);
    expect(await ensureBundles({ outdir, flavour: "test", names: ["fle-key-bootstrap"] })).toEqual([
      "fle-key-bootstrap",
    ]);
  }, 60_000);
});
