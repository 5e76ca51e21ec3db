import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { functionNames, manifest } from "../functions/manifest.ts";
import { resourceName, sstHandler } from "./functions.ts";

const root = join(import.meta.dirname, "..");

describe("handler entry points", () => {
  // That each entry exports a callable `handler`: functions/manifest.test.ts (infra imports no handler code).
  it("points SST at each manifest entry's file and its `handler` export", () => {
    for (const name of functionNames) {
      const entry = sstHandler(manifest[name]);
      const dot = entry.lastIndexOf(".");
      const file = join(root, `${entry.slice(0, dot)}.ts`);
      expect(existsSync(file), `${entry}: ${file} missing`).toBe(true);
      expect(file).toBe(join(root, "functions", manifest[name].entry));
      expect(entry.slice(dot + 1)).toBe("handler");
    }
  });

  it("names each function's resources after its manifest name", () => {
    expect(resourceName(manifest.records)).toBe("Records");
    expect(resourceName(manifest["images-api"])).toBe("ImagesApi");
    expect(resourceName(manifest["fle-key-bootstrap"])).toBe("FleKeyBootstrap");
  });
});
