import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { functionNames, manifest } from "../functions/manifest.ts";
import { resourceName, sstHandler } from "./functions.ts";

const root = join(import.meta.dirname, "..");

describe("handler entry points", () => {
  it("each function of the manifest names a source file that exports the handler", () => {
    for (const name of functionNames) {
      const entry = sstHandler(manifest[name]);
      const dot = entry.lastIndexOf(".");
      const file = join(root, `${entry.slice(0, dot)}.ts`);
      expect(existsSync(file), `${entry}: ${file} missing`).toBe(true);
      expect(readFileSync(file, "utf8")).toMatch(
        new RegExp(`export (async )?(function|const) ${entry.slice(dot + 1)}\\b`),
      );
    }
  });

  it("names each function's resources after its manifest name", () => {
    expect(resourceName(manifest.records)).toBe("Records");
    expect(resourceName(manifest["images-api"])).toBe("ImagesApi");
    expect(resourceName(manifest["fle-key-bootstrap"])).toBe("FleKeyBootstrap");
  });

  it("bundles every function with no esbuild plugin: each library as published", () => {
    const source = readFileSync(join(root, "infra", "functions.ts"), "utf8");
    expect(source).not.toMatch(/plugins\s*:/);
  });
});
