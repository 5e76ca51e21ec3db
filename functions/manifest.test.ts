/**
 * The manifest is the only list of functions: each entry names a handler that exists, the package
 * exports are exactly the manifest's, the links are resources a handler can read, and the routes are
 * those of @veil/core's tables, each served by exactly one function.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { accountRoutes, imageRoutes, recordRoutes } from "@veil/core";
import { describe, expect, it } from "vitest";
import { functionNames, type LinkName, manifest } from "./manifest.ts";
import type { LinkedResources } from "./src/shared/resources.ts";

const here = fileURLToPath(new URL(".", import.meta.url));

// Compile-time: every link name has its type in src/shared/resources.ts, and every type there (but
// `App`, which SST always adds) is a link name (that module checks the same both ways).
type Declared = Exclude<keyof LinkedResources, "App">;
const linksAreDeclared: [Exclude<LinkName, Declared>] extends [never]
  ? [Exclude<Declared, LinkName>] extends [never]
    ? true
    : false
  : false = true;

describe("function manifest", () => {
  it("names each function once, by the folder of its handler", () => {
    expect(linksAreDeclared).toBe(true);
    for (const name of functionNames) {
      const spec = manifest[name];
      expect(spec.name).toBe(name);
      expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(spec.entry).toBe(`src/${name}/handler.ts`);
      expect(existsSync(join(here, spec.entry)), spec.entry).toBe(true);
    }
  });

  it("points each function at a module whose `handler` export Lambda can call", async () => {
    // The download builds its entry from the Lambda runtime's `awslambda` global when imported.
    const g = globalThis as { awslambda?: { streamifyResponse?: unknown } };
    g.awslambda = { ...g.awslambda, streamifyResponse: (h: unknown) => h };
    for (const name of functionNames) {
      const mod = (await import(join(here, manifest[name].entry))) as { handler?: unknown };
      expect(mod.handler, name).toBeTypeOf("function");
    }
  }, 60_000);

  it("is what the package exports: one export per function, plus the manifest, the build and the test switches", () => {
    const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8")) as {
      exports: Record<string, string>;
    };
    const expected = Object.fromEntries(functionNames.map((n) => [`./${n}`, `./${manifest[n].entry}`]));
    expect(pkg.exports).toEqual({
      "./manifest": "./manifest.ts",
      "./build": "./build.ts",
      ...expected,
      "./test-switches": "./src/records/test-switches.ts",
    });
  });

  it("routes every API route of @veil/core to exactly one function, and only API functions have routes", () => {
    const key = (r: { method: string; resource: string }) => `${r.method} ${r.resource}`;
    const routed = functionNames.flatMap((n) => manifest[n].routes.map(key));
    expect(routed.sort()).toEqual([...recordRoutes, ...imageRoutes, ...accountRoutes].map(key).sort());
    for (const name of functionNames) {
      const spec = manifest[name];
      expect(spec.routes.length > 0, name).toBe(spec.trigger === "api");
      if (spec.streaming)
        expect(spec.routes.every((r) => "transfer" in r && r.transfer === "STREAM")).toBe(true);
    }
  });

  it("keeps the functions that reach the database in the VPC, and fits Lambda's limits", () => {
    for (const name of functionNames) {
      const spec = manifest[name];
      expect(spec.vpc, name).toBe(spec.links.includes("Database"));
      expect(spec.timeoutSeconds).toBeGreaterThan(0);
      expect(spec.timeoutSeconds).toBeLessThanOrEqual(900);
      expect(spec.memoryMb).toBeGreaterThanOrEqual(128);
      // API Gateway waits 29 s for a buffered integration.
      if (spec.trigger === "api" && !spec.streaming) expect(spec.timeoutSeconds).toBeLessThanOrEqual(29);
    }
  });
});
