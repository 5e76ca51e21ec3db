/**
 * Bundles the Lambda@Edge function: `tsx edge/build.ts --region eu-west-1 [--api-host abc.execute-api…]`
 * (or VEIL_EDGE_REGION / VEIL_EDGE_API_HOST). Lambda@Edge has no environment variables, so the region
 * is written into the bundle here. Output: edge/dist/index.mjs (ESM, nodejs22.x).
 */
import { statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { edgeBuildOptions } from "./build-options.ts";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  // `pnpm … build -- --region x` passes the `--` through; drop it.
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { region: { type: "string" }, "api-host": { type: "string" }, outfile: { type: "string" } },
});
const region = values.region ?? process.env.VEIL_EDGE_REGION;
const apiHost = values["api-host"] ?? process.env.VEIL_EDGE_API_HOST;
if (!region || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
  console.error("edge build: --region (or VEIL_EDGE_REGION) must be an AWS region such as eu-west-1");
  process.exit(1);
}
const outfile = values.outfile ?? join(here, "dist", "index.mjs");

await build({ ...edgeBuildOptions(apiHost ? { region, apiHost } : { region }), outfile });

const kb = statSync(outfile).size / 1024;
console.log(
  `edge bundle: ${relative(process.cwd(), outfile)} ${kb.toFixed(1)} KB (region ${region}${apiHost ? `, api host ${apiHost}` : ""})`,
);
if (kb > 30) console.warn("edge bundle is above the 30 KB goal");
