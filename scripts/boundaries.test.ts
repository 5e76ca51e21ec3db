import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error plain ESM script without types
import { importsOf, violations } from "./check-boundaries.mjs";

describe("module boundaries", () => {
  it("the repository keeps every arrow of the design", () => {
    expect(violations(join(import.meta.dirname, ".."))).toEqual([]);
  });

  it("catches a handler importing the local platform and an SDK in the edge", () => {
    const root = mkdtempSync(join(tmpdir(), "veil-bounds-"));
    mkdirSync(join(root, "functions"), { recursive: true });
    mkdirSync(join(root, "edge/src"), { recursive: true });
    writeFileSync(join(root, "functions/h.ts"), 'import { x } from "@veil/local";\n');
    writeFileSync(join(root, "edge/src/s.ts"), 'import { KMS } from "@aws-sdk/client-kms";\n');
    try {
      expect(violations(root)).toHaveLength(2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("reads static, dynamic and type-only imports", () => {
    expect(
      importsOf('import type { A } from "a";\nconst b = await import("b");\nexport * from "c";'),
    ).toEqual(["a", "b", "c"]);
  });
});
