import { beforeAll, describe, expect, it } from "vitest";
import { liveChannelNamespace } from "../live-dev.ts";
import { type Stack, synthesize, testAccount } from "./harness.ts";
import { unorderedLambdaReferences } from "./lambda-references.ts";
import { decide } from "./simulate.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
type Doc = { Statement: any[] };

/**
 * `sst dev` on a shared stage would swap its live functions for SST's stub and relay real users' events
 * and decrypted answers to a laptop: refused before anything is planned.
 */
describe("sst dev on a shared stage", () => {
  // `run()` of sst.config.ts itself, with the globals SST sets: the refusal comes before any resource,
  // so no engine is needed (inside one, the refused program leaves the engine's own promises rejected).
  // Without the check, `run()` goes on to build resources without an engine and fails otherwise.
  // biome-ignore lint/suspicious/noExplicitAny: SST's globals
  const g = globalThis as any;
  for (const stage of ["dev", "sit", "prod", "governance"])
    it(`stops ${stage} with a VisibleError naming the personal-stage way`, async () => {
      const saved = { $config: g.$config, $dev: g.$dev, $app: g.$app };
      g.$config ??= (c: unknown) => c;
      g.$dev = true;
      g.$app = { name: "veil", stage };
      try {
        const config = (await import("../../sst.config.ts")).default as { run(): Promise<unknown> };
        const run = config.run();
        await expect(run).rejects.toThrow(/sst dev.*personal stage.*VEIL_PERSONAL_STAGE=<name>/s);
        await expect(run).rejects.toMatchObject({ name: "VisibleError" });
      } finally {
        Object.assign(g, saved);
      }
    }, 120_000);
});

/** `sst dev` on a personal stage: handlers run on the laptop, except what must never be there. */
describe("sst dev on a personal stage", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize(
      "alice",
      { VEIL_KEY_ADMIN_ROLE_ARN: "arn:aws:iam::123456789012:role/alice", VEIL_PERSONAL_STAGE: "alice" },
      { dev: true },
    );
  }, 120_000);

  it("builds the database and FLE key bootstraps and the key rotation for AWS instead of proxying them to the laptop", () => {
    expect(Object.keys(s.builds).sort()).toEqual(["DbBootstrap", "FleKeyBootstrap", "RotateApiKey"]);
  });

  it("uses the dev settings under the personal stage's names and the given key admin", () => {
    const key = JSON.parse(s.get("aws:kms/key:Key", "DataKey").inputs.policy);
    expect(JSON.stringify(key)).toContain("arn:aws:iam::123456789012:role/alice");
    expect(s.get("aws:rds/instance:Instance", "Database").inputs.identifier).toBe("veil-alice-db");
    expect(s.outputs.url).toBe("https://alice.dev.veil.example.com");
  });

  it("orders everything naming a function after it, in dev mode too", () => {
    expect(unorderedLambdaReferences(s)).toEqual([]);
  });

  describe("the live stub's rights (SST's AppSync Events API), on the live functions' roles only", () => {
    // The API the harness's SST session reports (test/setup.ts).
    const api = `arn:aws:appsync:eu-central-2:${testAccount}:apis/devapi0123456789abcdefghij`;
    const namespace = `${api}/channelNamespace/${liveChannelNamespace}`;
    const policies = (role: string): Doc[] =>
      s
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .filter((p) => p.inputs.role === role)
        .map((p) => JSON.parse(p.inputs.policy));
    const ask = (role: string, action: string, resource: string) =>
      decide({
        role: `arn:aws:iam::${testAccount}:role/${role}`,
        identity: policies(role),
        action,
        resource,
      });

    it("lets each live function's stub connect, publish and subscribe on SST's API", async () => {
      for (const part of ["api", "ingest", "images-api", "images-download", "images-cleanup", "account"]) {
        const role = `veil-alice-${part}`;
        expect(await ask(role, "appsync:EventConnect", api), role).toBe("Allowed");
        expect(await ask(role, "appsync:EventPublish", namespace), role).toBe("Allowed");
        expect(await ask(role, "appsync:EventSubscribe", namespace), role).toBe("Allowed");
        // Not another API, not another namespace, nothing else of AppSync.
        expect(await ask(role, "appsync:EventConnect", `${api}x`), role).not.toBe("Allowed");
        expect(await ask(role, "appsync:EventPublish", `${api}/channelNamespace/other`), role).not.toBe(
          "Allowed",
        );
        expect(await ask(role, "appsync:GraphQL", `${api}/types/Query/fields/x`), role).not.toBe("Allowed");
      }
    });

    it("gives nothing of it to the functions that always run in AWS", async () => {
      for (const part of ["rotate-api-key", "fle-bootstrap", "db-bootstrap"]) {
        const role = `veil-alice-${part}`;
        expect(await ask(role, "appsync:EventConnect", api), role).not.toBe("Allowed");
      }
    });
  });
});
