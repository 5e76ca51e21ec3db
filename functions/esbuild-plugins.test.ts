/**
 * `slimPg` against `pg` itself: the same entry bundled with and without the plugin behaves the same
 * where a Lambda function can tell (no `pg-native`: `pg.native` is null, forcing native fails to load;
 * no .pgpass file: no password), and differs only where it is meant to: a .pgpass file is ignored.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import plugins, { slimPg } from "./esbuild-plugins.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "veil-slim-pg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// pg's own password lookup (`_getPassword`, what it runs when the server asks for a password).
const entry = `
  import pg from "pg";
  const client = new pg.Client({ host: "db.example", port: 5432, user: "veil", database: "veil" });
  const password = await new Promise((resolve) => client._getPassword(() => resolve(client.password ?? null)));
  process.stdout.write(JSON.stringify({ native: pg.native, password }));
`;

async function bundle(name: string, withPlugins: Plugin[]): Promise<{ outfile: string; files: string[] }> {
  const outfile = join(dir, name, "index.mjs");
  const result = await build({
    stdin: { contents: entry, resolveDir: join(here, "..", "packages", "db"), loader: "js" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile,
    metafile: true,
    external: ["pg-native"],
    logLevel: "silent",
    plugins: withPlugins,
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  });
  const files = Object.values(result.metafile.outputs).flatMap((o) => Object.keys(o.inputs));
  return { outfile, files };
}

function run(
  outfile: string,
  env: Record<string, string> = {},
): { native: null; password: string | null } | string {
  try {
    return JSON.parse(
      execFileSync(process.execPath, [outfile], {
        env: { PATH: process.env.PATH ?? "", HOME: dir, ...env },
        encoding: "utf8",
        stdio: "pipe",
      }),
    );
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? "");
    return stderr.includes("MODULE_NOT_FOUND") ? "MODULE_NOT_FOUND" : stderr;
  }
}

describe("slimPg", () => {
  let slim: Awaited<ReturnType<typeof bundle>>;
  let stock: Awaited<ReturnType<typeof bundle>>;
  beforeAll(async () => {
    slim = await bundle("slim", [slimPg()]);
    stock = await bundle("stock", []);
  }, 60_000);

  it("is in the Lambda plugin list", () => {
    expect(plugins.map((p) => p.name)).toContain(slimPg().name);
  });

  it("leaves out pg's native binding, pgpass and split2", () => {
    const left = /node_modules\/(pgpass|split2)\/|node_modules\/pg\/lib\/native\//;
    expect(slim.files.filter((f) => left.test(f))).toEqual([]);
    expect(stock.files.filter((f) => left.test(f)).length).toBeGreaterThan(0);
  });

  it("without pg-native and without a .pgpass file, behaves as pg does", () => {
    const missing = { PGPASSFILE: join(dir, "no-such-pgpass") };
    expect(run(slim.outfile, missing)).toEqual({ native: null, password: null });
    expect(run(stock.outfile, missing)).toEqual({ native: null, password: null });
    expect(run(slim.outfile, { NODE_PG_FORCE_NATIVE: "1" })).toBe("MODULE_NOT_FOUND");
    expect(run(stock.outfile, { NODE_PG_FORCE_NATIVE: "1" })).toBe("MODULE_NOT_FOUND");
  });

  it("ignores a .pgpass file (deliberately: every @veil/db client brings its password)", () => {
    const pgpass = join(dir, "pgpass");
    writeFileSync(pgpass, "db.example:5432:veil:veil:from-pgpass\n");
    chmodSync(pgpass, 0o600);
    expect(run(stock.outfile, { PGPASSFILE: pgpass })).toEqual({ native: null, password: "from-pgpass" });
    expect(run(slim.outfile, { PGPASSFILE: pgpass })).toEqual({ native: null, password: null });
  });
});
