/**
 * The Lambda bundles, built the way SST builds them for `nodejs22.x` (see `infra/functions.ts`):
 * esbuild, one ESM file, minified, tree-shaken, `keepNames`, the `createRequire` banner, the native
 * add-ons SST leaves out marked external, every other dependency bundled — `@aws-sdk/*` too (we pin its
 * version) and the Powertools logger. No plugin: what is bundled is each library as published.
 *
 * Two flavours, which differ only in the `__VEIL_TEST_SWITCHES__` define: `production` (false, as
 * deployed) and `test` (true: the records function's test-only switches are compiled in, for the local
 * stack under Vitest). Both come from `bundleHandler`; nothing else bundles a handler.
 *
 *   tsx functions/build.ts                          every function → functions/dist/production/<name>/index.mjs
 *   tsx functions/build.ts records --outdir d       only the named function(s)
 *   tsx functions/build.ts --test-switches          the test flavour → functions/dist/test/<name>/index.mjs
 *
 * Prints each bundle's size and the packages that weigh most in it.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BuildOptions, build, type Metafile } from "esbuild";
import { isFresh, recordBuildInputs } from "./fresh.ts";
import { type FunctionName, functionNames, manifest, productionDefine } from "./manifest.ts";

const here = dirname(fileURLToPath(import.meta.url));

export type { FunctionName } from "./manifest.ts";

/** Which bundle: as deployed, or with the test-only switches compiled in. */
export type BundleFlavour = "production" | "test";

/** Where `buildBundles` puts a flavour by default: `functions/dist/<flavour>/<name>/index.mjs`. */
export function bundleDir(flavour: BundleFlavour): string {
  return join(here, "dist", flavour);
}

/** The bundle file of one function in a bundle folder. */
export function bundleFile(dir: string, name: FunctionName): string {
  return join(dir, name, "index.mjs");
}

/**
 * Size budget of each bundle, in KiB, enforced by `bundle-budget.test.ts` (and the records one reported
 * by `pnpm bench`): today's bundle plus some headroom, so a dependency that drags in a new client or an
 * umbrella package fails a test. Lower a budget as its bundle shrinks. The records goal (`handler_bundle_kb`
 * in `pnpm bench`) is 400 KB; the stock Encryption SDK brings two bn.js copies (its own and asn1.js's),
 * so the budget sits above it.
 */
export const bundleBudgetsKb: Readonly<Record<FunctionName, number>> = {
  records: 480,
  "images-api": 900,
  "images-download": 915,
  "images-ingest": 935,
  "images-cleanup": 890,
  account: 920,
  "rotate-api-key": 575,
  "fle-key-bootstrap": 24,
  "db-bootstrap": 150,
};

/** Native add-ons SST marks external in every Node.js function; `pg-native` is never loaded. */
export const lambdaExternals = ["pg-native", "sharp"];

/** What SST puts at the top of every ESM bundle: CommonJS dependencies may still `require` builtins. */
const banner = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  "const require = topLevelCreateRequire(import.meta.url);",
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/** The esbuild options of a production bundle (everything but entry point and output). */
export const productionOptions: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  mainFields: ["module", "main"],
  minify: true,
  keepNames: true,
  treeShaking: true,
  sourcemap: false,
  external: lambdaExternals,
  define: { ...productionDefine },
  banner: { js: banner },
  logLevel: "warning",
};

/** The esbuild options of a flavour: the test one differs from production in the define only. */
export function bundleOptions(flavour: BundleFlavour): BuildOptions {
  return flavour === "production"
    ? productionOptions
    : { ...productionOptions, define: { ...productionDefine, __VEIL_TEST_SWITCHES__: "true" } };
}

export interface HandlerBundle {
  readonly name: FunctionName;
  readonly outfile: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/**
 * Bundles one function to `outfile` (written atomically: a process running the previous bundle never
 * reads half a file). `overrides` only for tests that compare builds.
 *
 * @example
 *   const { bytes } = await bundleHandler("records", "/tmp/records/index.mjs");
 */
export async function bundleHandler(
  name: FunctionName,
  outfile: string,
  flavour: BundleFlavour = "production",
  overrides: Partial<BuildOptions> = {},
): Promise<HandlerBundle> {
  const startedAt = Date.now();
  const result = await build({
    ...bundleOptions(flavour),
    ...overrides,
    entryPoints: [join(here, manifest[name].entry)],
    outfile,
    write: false,
    metafile: true,
  });
  const code = result.outputFiles.find((f) => f.path.endsWith(".mjs"))?.contents;
  if (!code) throw new Error(`esbuild wrote no bundle for ${name}`);
  mkdirSync(dirname(outfile), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, outfile);
  recordBuildInputs(outfile, result.metafile, { flavour, overrides: JSON.stringify(overrides) }, startedAt);
  return { name, outfile, bytes: code.byteLength, metafile: result.metafile };
}

/**
 * Bundles the named functions (default: all) into `<outdir>/<name>/index.mjs`.
 *
 * @example
 *   await buildBundles({ flavour: "test", names: ["records"] });
 */
export async function buildBundles(
  options: { flavour?: BundleFlavour; outdir?: string; names?: readonly FunctionName[] } = {},
): Promise<HandlerBundle[]> {
  const flavour = options.flavour ?? "production";
  const outdir = options.outdir ?? bundleDir(flavour);
  const bundles: HandlerBundle[] = [];
  for (const name of options.names ?? functionNames) {
    bundles.push(await bundleHandler(name, bundleFile(outdir, name), flavour));
  }
  return bundles;
}

/**
 * Bundles those of the named functions (default: all) whose bundle is missing, of another flavour or
 * older than one of its inputs; resolves with their names (empty when every bundle was current).
 *
 * @example
 *   const rebuilt = await ensureBundles({ flavour: "production", names: ["records"] });
 */
export async function ensureBundles(
  options: { flavour?: BundleFlavour; outdir?: string; names?: readonly FunctionName[] } = {},
): Promise<FunctionName[]> {
  const flavour = options.flavour ?? "production";
  const outdir = options.outdir ?? bundleDir(flavour);
  const stale = (options.names ?? functionNames).filter(
    (name) => !isFresh(bundleFile(outdir, name), { flavour, overrides: "{}" }),
  );
  if (stale.length > 0) await buildBundles({ flavour, outdir, names: stale });
  return stale;
}

/** Bytes in the output per npm package (or workspace folder), largest first. */
export function weightByPackage(metafile: Metafile): Array<{ name: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inPackage = file.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/);
      const name =
        inPackage?.[1] ??
        file
          .replace(/^(\.\.\/)+/, "")
          .split("/")
          .slice(0, 2)
          .join("/");
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== "--"),
    options: {
      outdir: { type: "string" },
      top: { type: "string" },
      "test-switches": { type: "boolean" },
    },
    allowPositionals: true,
  });
  const names = (positionals.length > 0 ? positionals : functionNames) as FunctionName[];
  const unknown = names.filter((n) => !(n in manifest));
  if (unknown.length > 0) {
    console.error(`unknown function(s) ${unknown.join(", ")}; have ${functionNames.join(", ")}`);
    process.exit(2);
  }
  const flavour: BundleFlavour = values["test-switches"] ? "test" : "production";
  const top = Number(values.top ?? 8);
  for (const bundle of await buildBundles({
    flavour,
    names,
    ...(values.outdir ? { outdir: values.outdir } : {}),
  })) {
    const kb = bundle.bytes / 1024;
    const budget = bundleBudgetsKb[bundle.name];
    const note = kb > budget ? ` (over the ${budget} KB budget)` : "";
    process.stdout.write(
      `${bundle.name}: ${relative(process.cwd(), bundle.outfile)} ${kb.toFixed(1)} KB${note}\n`,
    );
    for (const { name: pkg, bytes } of weightByPackage(bundle.metafile).slice(0, top)) {
      process.stdout.write(`  ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${pkg}\n`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
