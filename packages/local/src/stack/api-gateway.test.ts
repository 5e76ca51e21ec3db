import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stageConfig } from "../../../../infra/stage.ts";
import { apiGatewayOptions } from "./api-gateway.ts";
import { loadIdentities } from "./identities.ts";
import { localStageConfig } from "./stage.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-api-gateway-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the stack's API Gateway step", () => {
  it("throttles each key as the stage's usage plan in infra, and lets only the edge role call", async () => {
    const ids = await loadIdentities(join(dir, "identities.json"));
    for (const name of ["dev", "sit", "prod"] as const) {
      const options = apiGatewayOptions({
        port: 0,
        stage: "local",
        region: "eu-central-2",
        settings: localStageConfig(name),
        ids,
        routes: [],
        log: () => undefined,
      });
      expect(options.apiKeys.throttle, name).toEqual(stageConfig(name).api);
      expect(options.apiKeys.keys).toEqual(ids.apiKeys);
      expect(options.allowedPrincipalArns).toEqual([ids.edgeRole.arn]);
      expect(options.disabledChecks).toBeUndefined();
    }
  });
});
