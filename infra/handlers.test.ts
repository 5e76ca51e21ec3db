import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { handlers } from "./functions.ts";

const root = join(import.meta.dirname, "..");

describe("handler entry points", () => {
  it("each names a source file that exports the handler", () => {
    for (const entry of Object.values(handlers)) {
      const dot = entry.lastIndexOf(".");
      const file = join(root, `${entry.slice(0, dot)}.ts`);
      expect(existsSync(file), `${entry}: ${file} missing`).toBe(true);
      expect(readFileSync(file, "utf8")).toMatch(
        new RegExp(`export (async )?(function|const) ${entry.slice(dot + 1)}\\b`),
      );
    }
  });

  it("every function is bundled with the plugins the measured bundles use", async () => {
    const source = readFileSync(join(root, "infra", "functions.ts"), "utf8");
    const path = /plugins: "([^"]+)"/.exec(source)?.[1];
    expect(path, "nodejs.plugins missing in createHandler").toBe("functions/esbuild-plugins.mjs");
    const plugins = (await import(join(root, path ?? ""))).default as Array<{ name: string }>;
    expect(plugins.length).toBeGreaterThan(0);
    const built = readFileSync(join(root, "functions", "build.ts"), "utf8");
    expect(built).toMatch(/esbuild-plugins\.mjs/);
  });
});
