import { afterEach, describe, expect, it } from "vitest";
import { stageConfig } from "../../../../infra/stage.ts";
import { startGateway } from "../gateway/index.ts";
import type { LocalGateway } from "../gateway/types.ts";
import { localStageConfig, usagePlanThrottle } from "./stage.ts";

let gateway: LocalGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

describe("the local stack's stage settings", () => {
  it("are infra's: dev by default, any named stage on request", () => {
    expect(localStageConfig()).toEqual(stageConfig("dev"));
    for (const name of ["dev", "sit", "prod"] as const)
      expect(localStageConfig(name)).toEqual(stageConfig(name));
  });

  it("throttle the local gateway as infra's usage plan: burst, then rate per second, per key", async () => {
    for (const name of ["dev", "prod"] as const) {
      const { rateLimit, burstLimit } = stageConfig(name).api;
      let clock = Date.parse("2026-05-06T07:08:09Z");
      gateway = await startGateway({
        stage: "local",
        region: "eu-central-2",
        accountId: "123456789012",
        apiKeys: { keys: ["the-key"], throttle: usagePlanThrottle(localStageConfig(name)) },
        principals: () => undefined,
        allowedPrincipalArns: [],
        routes: [{ method: "GET", resource: "/api/x", handler: async () => ({ statusCode: 200, body: "" }) }],
        now: () => clock,
      });
      // Unsigned: each request spends a token, then gets 403 at the signature check; 429 once none is left.
      const send = async (n: number) => {
        const statuses: number[] = [];
        for (let i = 0; i < n; i++) {
          const res = await fetch(`${gateway?.url}/api/x`, { headers: { "x-api-key": "the-key" } });
          await res.arrayBuffer();
          statuses.push(res.status);
        }
        return statuses;
      };
      const burst = await send(burstLimit + 1);
      expect(
        burst.filter((s) => s === 429),
        name,
      ).toHaveLength(1);
      expect(burst.at(-1), name).toBe(429);
      clock += 1000;
      const nextSecond = await send(rateLimit + 1);
      expect(
        nextSecond.filter((s) => s === 429),
        name,
      ).toHaveLength(1);
      await gateway.stop();
      gateway = undefined;
    }
  });
});
