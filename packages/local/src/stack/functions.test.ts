/**
 * The local stack's functions come from the manifest: each runs its bundle file with exactly the links
 * of its entry, its memory and its name, and serves exactly the routes of its entry.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LinkName, manifest } from "@veil/functions/manifest";
import { afterAll, describe, expect, it } from "vitest";
import type { LocalLambda } from "../lambda/index.ts";
import { gatewayRoutes, localBundleFlavour, localFunctions, startFunction } from "./functions.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-local-fns-"));
const started: LocalLambda[] = [];
afterAll(async () => {
  for (const fn of started) await fn.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A stand-in bundle for every local function: reports the environment it was started with.
for (const name of localFunctions) {
  mkdirSync(join(dir, "bundles", name), { recursive: true });
  writeFileSync(
    join(dir, "bundles", name, "index.mjs"),
    `export const handler = async () => ({ env: Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(SST_|POWERTOOLS_SERVICE|AWS_LAMBDA_FUNCTION_|MINE)/.test(k))) });\n`,
  );
}

// A stand-in for every link name (the compiler checks none is missing): each function must get its own.
const links = {
  RecordsKey: { arn: "k" },
  Database: { url: "u" },
  DatabaseMaster: { secretArn: "m", host: "h" },
  UserPool: { id: "p" },
  UserPoolClient: { id: "c" },
  FleKey: { secretArn: "s", providerId: "v" },
  IdempotencySecret: { secretArn: "i" },
  FlePublicKey: { pem: "pem", keyName: "n", providerId: "v" },
  ImagesBucket: { name: "images" },
  InboxBucket: { name: "inbox" },
  RotationTarget: { usagePlanId: "u" },
} satisfies Record<LinkName, unknown>;

describe("local functions", () => {
  it.each(localFunctions)("%s runs its bundle with exactly the links of its manifest entry", async (name) => {
    const fn = startFunction(name, {
      bundleDir: join(dir, "bundles"),
      stage: "t",
      logDir: dir,
      links,
      env: { MINE: "yes" },
    });
    started.push(fn);
    const { env } = await fn.invoke<{ env: Record<string, string> }>({});
    const resources = Object.keys(env)
      .filter((k) => k.startsWith("SST_RESOURCE_"))
      .map((k) => k.slice("SST_RESOURCE_".length))
      .sort();
    expect(resources).toEqual(["App", ...manifest[name].links].sort());
    expect(env).toMatchObject({
      MINE: "yes",
      POWERTOOLS_SERVICE_NAME: `veil-${name}`,
      AWS_LAMBDA_FUNCTION_NAME: `veil-t-${name}`,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(manifest[name].memoryMb),
    });
  });

  it("refuses to start a function whose link the stack lacks", () => {
    expect(() =>
      startFunction("records", { bundleDir: dir, stage: "t", logDir: dir, links: {}, env: {} }),
    ).toThrow(/reads RecordsKey/);
  });

  it("routes what the manifest routes, the streaming download as a stream", () => {
    const fn = {} as LocalLambda;
    for (const name of localFunctions) {
      const routes = gatewayRoutes(name, "t", fn);
      expect(routes.map((r) => `${r.method} ${r.resource}`)).toEqual(
        manifest[name].routes.map((r) => `${r.method} ${r.resource}`),
      );
      for (const r of routes) expect(Boolean(r.streamHandler)).toBe(manifest[name].streaming);
    }
  });

  it("runs the test flavour in a test run only", () => {
    expect(localBundleFlavour({ VITEST: "true" })).toBe("test");
    expect(localBundleFlavour({})).toBe("production");
  });
});
