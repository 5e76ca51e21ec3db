/**
 * Production bundles of the Lambda handlers, built the way SST builds them for `nodejs22.x` (see
 * `infra/functions.ts`): esbuild, one ESM file, minified, tree-shaken, `keepNames`, the `createRequire`
 * banner, every dependency bundled — `@aws-sdk/*` too (we pin its version) and the Powertools logger
 * (bundled it costs 21 KB; loaded from the layer's node_modules it costs ~15 ms more at init) —,
 * `__VEIL_TEST_SWITCHES__` defined `false` so the test-only switches are compiled out, and the esbuild
 * plugins of `esbuild-plugins.mjs` (the Encryption SDK without bn.js/asn1.js).
 *
 *   tsx functions/build.ts                       every handler → functions/dist/<name>/index.mjs
 *   tsx functions/build.ts records --outdir d    only the named handler(s)
 *
 * Prints each bundle's size and the packages that weigh most in it.
 */
import { statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BuildOptions, build, type Metafile } from "esbuild";
import lambdaPlugins from "./esbuild-plugins.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** Handler entry files by name (the same files `infra/functions.ts` points SST at). */
export const handlerEntries = {
  records: "src/records/handler.ts",
  "rotate-api-key": "src/rotate-api-key/handler.ts",
  "fle-key-bootstrap": "src/fle-key-bootstrap/handler.ts",
  "db-bootstrap": "src/db-bootstrap/handler.ts",
} as const;
export type HandlerName = keyof typeof handlerEntries;

/**
 * Size budget the tests enforce (`bundle-budget.test.ts`): today's bundle plus a little headroom, so a
 * dependency that drags in a new client or an umbrella package fails a test. Lower it as it shrinks.
 */
export const recordsBundleBudgetKb = 280;

/** Native add-ons SST also leaves out; `pg-native` is never loaded (pg's pure-JS client is used). */
export const lambdaExternals = ["pg-native", "sharp"];

/** What SST puts at the top of every ESM bundle: CommonJS dependencies may still `require` builtins. */
const banner = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  "const require = topLevelCreateRequire(import.meta.url);",
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  "const __filename = topLevelFileUrlToPath(import.meta.url)",
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join("\n");

/** The esbuild options of a production handler bundle (everything but entry point and output). */
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
  define: { __VEIL_TEST_SWITCHES__: "false" },
  banner: { js: banner },
  // The same plugins SST applies (`nodejs.plugins` → functions/esbuild-plugins.mjs).
  plugins: lambdaPlugins,
  logLevel: "warning",
};

export interface HandlerBundle {
  readonly name: string;
  readonly outfile: string;
  readonly bytes: number;
  readonly metafile: Metafile;
}

/** Bundles one handler to `outfile` as production does (`overrides` only for comparisons). */
export async function bundleHandler(
  name: HandlerName,
  outfile: string,
  overrides: Partial<BuildOptions> = {},
): Promise<HandlerBundle> {
  const result = await build({
    ...productionOptions,
    ...overrides,
    entryPoints: [join(here, handlerEntries[name])],
    outfile,
    metafile: true,
  });
  return { name, outfile, bytes: statSync(outfile).size, metafile: result.metafile };
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
    options: { outdir: { type: "string" }, top: { type: "string" } },
    allowPositionals: true,
  });
  const names = (positionals.length > 0 ? positionals : Object.keys(handlerEntries)) as HandlerName[];
  const unknown = names.filter((n) => !(n in handlerEntries));
  if (unknown.length > 0) {
    console.error(`unknown handler(s) ${unknown.join(", ")}; have ${Object.keys(handlerEntries).join(", ")}`);
    process.exit(2);
  }
  const outdir = values.outdir ?? join(here, "dist");
  const top = Number(values.top ?? 8);
  for (const name of names) {
    const bundle = await bundleHandler(name, join(outdir, name, "index.mjs"));
    const kb = bundle.bytes / 1024;
    // The goal is in bench/goals.ts (`pnpm bench`); the budget is what the tests enforce.
    const note =
      name === "records" && kb > recordsBundleBudgetKb
        ? ` (over the ${recordsBundleBudgetKb} KB budget)`
        : "";
    process.stdout.write(`${name}: ${relative(process.cwd(), bundle.outfile)} ${kb.toFixed(1)} KB${note}\n`);
    for (const { name: pkg, bytes } of weightByPackage(bundle.metafile).slice(0, top)) {
      process.stdout.write(`  ${(bytes / 1024).toFixed(1).padStart(7)} KB  ${pkg}\n`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
