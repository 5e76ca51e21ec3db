// `pnpm openapi`: writes docs/openapi.json, the API description built from the route tables, and formats
// it with the repository's formatter. A test (openapi.test.ts) fails when the committed file says
// anything else than what this writes.
//   --check   write nothing; exit 1 when docs/openapi.json is stale
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { buildOpenApiDocument } from "./document.ts";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const out = join(repoRoot, "docs/openapi.json");
const doc = buildOpenApiDocument();

if (process.argv.includes("--check")) {
  if (!isDeepStrictEqual(JSON.parse(readFileSync(out, "utf8")), doc)) {
    process.stderr.write("docs/openapi.json is stale: run `pnpm openapi`\n");
    process.exit(1);
  }
} else {
  writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  spawnSync(join(repoRoot, "node_modules/.bin/biome"), ["format", "--write", out], {
    cwd: repoRoot,
    stdio: "ignore",
  });
  process.stdout.write(
    `Wrote ${relative(process.cwd(), out)}: ${Object.keys(doc.paths as object).length} paths\n`,
  );
}
