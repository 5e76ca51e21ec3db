/**
 * The esbuild options of the deployable edge bundle, shared by `build.ts` and the benchmark (which
 * builds the same bundle to measure it).
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "esbuild";
import type { EdgeConfig } from "./src/config.ts";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * ESM for `nodejs22.x`, minified, with the API's region (and optional pinned host) written in. The
 * signer is CommonJS and loads Node built-ins with `require`, which an ES module has not: the banner
 * gives it one.
 *
 * @example
 * await build({ ...edgeBuildOptions({ region: "eu-west-1" }), outfile: "dist/index.mjs" });
 */
export function edgeBuildOptions(config: EdgeConfig): BuildOptions {
  return {
    entryPoints: [join(here, "src", "index.ts")],
    bundle: true,
    minify: true,
    platform: "node",
    target: "node22",
    format: "esm",
    legalComments: "none",
    banner: { js: 'import{createRequire}from"node:module";const require=createRequire(import.meta.url);' },
    define: { __VEIL_EDGE_CONFIG__: JSON.stringify(config) },
    logLevel: "warning",
  };
}
