import { describe, expect, it } from "vitest";
import { type CdnPort, type GatewayPort, type RotateDeps, rotateApiKey } from "./rotate.ts";

/**
 * In-memory API Gateway and CloudFront. `accepts(value)` is what the API would answer for a request
 * carrying that key; `served()` lists the header values edge locations may still send (old and new
 * while a deployment is in progress).
 */
function world(opts: { deployPolls?: number; failSet?: "before" | "after"; failAdd?: boolean } = {}) {
  const keys = new Map<string, { name: string; value: string; inPlan: boolean }>();
  keys.set("k0", {
    name: "veil-test-cloudfront-2026-10-23T10-00-00-000Z",
    value: "old-secret-value",
    inPlan: true,
  });
  let header = "old-secret-value";
  let previousHeader: string | undefined;
  let pollsLeft = 0;
  let deployPolls = opts.deployPolls ?? 2;
  let n = 0;
  const events: string[] = [];
  const accepts = (value: string) => [...keys.values()].some((k) => k.inPlan && k.value === value);
  const served = () => (pollsLeft > 0 && previousHeader ? [previousHeader, header] : [header]);
  // The invariant: whatever an edge location may send is accepted, at every step.
  const check = (step: string) => {
    for (const v of served()) if (!accepts(v)) throw new Error(`valid traffic rejected after ${step}`);
  };
  const gateway: GatewayPort = {
    async createKey(name) {
      const id = `k${++n}`;
      keys.set(id, { name, value: `new-secret-value-${n}`, inPlan: false });
      events.push(`create ${id}`);
      return { id, value: `new-secret-value-${n}` };
    },
    async addToUsagePlan(id) {
      if (opts.failAdd) throw new Error("TooManyRequests");
      keys.get(id)!.inPlan = true;
      events.push(`add ${id}`);
    },
    async deleteKey(id) {
      keys.delete(id);
      events.push(`delete ${id}`);
      check(`delete ${id}`);
    },
    async listKeys() {
      return [...keys].filter(([, k]) => k.inPlan).map(([id, k]) => ({ id, name: k.name }));
    },
  };
  const cdn: CdnPort = {
    async getOriginHeader() {
      return header;
    },
    async setOriginHeader(value) {
      if (opts.failSet === "before") throw new Error("PreconditionFailed");
      previousHeader = header;
      header = value;
      pollsLeft = deployPolls;
      events.push("switch");
      check("switch");
      if (opts.failSet === "after") throw new Error("socket hang up");
    },
    async waitDeployed() {
      while (pollsLeft > 0 && pollsLeft < 100) pollsLeft--;
      return pollsLeft === 0;
    },
  };
  return {
    gateway,
    cdn,
    keys,
    events,
    accepts,
    header: () => header,
    /** Later deployments finish within `polls` polls. */
    setDeployPolls: (polls: number) => {
      deployPolls = polls;
      pollsLeft = 0;
    },
  };
}

function deps(w: ReturnType<typeof world>, log: string[] = []): RotateDeps {
  return {
    gateway: w.gateway,
    cdn: w.cdn,
    now: () => new Date("2026-11-23T10:00:00.000Z"),
    keyNamePrefix: "veil-test-cloudfront-",
    sleep: async () => {},
    logger: {
      info: (m, f) => log.push(`${m} ${JSON.stringify(f ?? {})}`),
      warn: (m, f) => log.push(`${m} ${JSON.stringify(f ?? {})}`),
    },
  };
}

describe("rotateApiKey", () => {
  it("switches to a new key, keeps the replaced one until the next rotation and deletes older ones", async () => {
    const w = world();
    const result = await rotateApiKey(deps(w));
    expect(result).toEqual({ status: "rotated", keyId: "k1", previous: "k0", deleted: [] });
    expect(w.events).toEqual(["create k1", "add k1", "switch"]);
    expect(w.accepts(w.header())).toBe(true);
    // A deploy that read the old key before this rotation may still write it: it must stay valid.
    expect(w.accepts("old-secret-value")).toBe(true);
    expect([...w.keys.values()][1]!.name).toBe("veil-test-cloudfront-2026-11-23T10-00-00-000Z");
    const later = { ...deps(w), now: () => new Date("2026-12-23T10:00:00.000Z") };
    expect(await rotateApiKey(later)).toEqual({
      status: "rotated",
      keyId: "k2",
      previous: "k1",
      deleted: ["k0"],
    });
    expect(w.accepts("old-secret-value")).toBe(false);
    expect([...w.keys.keys()].sort()).toEqual(["k1", "k2"]);
  });

  it("keeps the old keys when the distribution has not finished deploying", async () => {
    const w = world({ deployPolls: 1000 });
    const result = await rotateApiKey(deps(w));
    expect(result).toEqual({ status: "pending", keyId: "k1", kept: ["k0"] });
    expect(w.accepts("old-secret-value")).toBe(true);
    // The next run, once deployments settle, replaces both and cleans up all but the newest old key.
    w.setDeployPolls(2);
    const later = { ...deps(w), now: () => new Date("2026-12-23T10:00:00.000Z") };
    expect(await rotateApiKey(later)).toEqual({
      status: "rotated",
      keyId: "k2",
      previous: "k1",
      deleted: ["k0"],
    });
    expect([...w.keys.keys()].sort()).toEqual(["k1", "k2"]);
  });

  it("removes the unused new key and keeps the old one when the switch fails", async () => {
    const w = world({ failSet: "before" });
    await expect(rotateApiKey(deps(w))).rejects.toThrow("PreconditionFailed");
    expect(w.events).toEqual(["create k1", "add k1", "delete k1"]);
    expect(w.accepts("old-secret-value")).toBe(true);
  });

  it("treats a switch that went through despite an error as done", async () => {
    const w = world({ failSet: "after" });
    const result = await rotateApiKey(deps(w));
    expect(result.status).toBe("rotated");
    expect(w.accepts(w.header())).toBe(true);
  });

  it("removes the new key when it cannot join the usage plan", async () => {
    const w = world({ failAdd: true });
    await expect(rotateApiKey(deps(w))).rejects.toThrow("TooManyRequests");
    expect(w.events).toEqual(["create k1", "delete k1"]);
    expect(w.header()).toBe("old-secret-value");
  });

  it("deletes nothing when someone else changed the header meanwhile", async () => {
    const w = world();
    const d = deps(w);
    const cdn = { ...w.cdn, getOriginHeader: async () => "someone-elses-value" };
    expect(await rotateApiKey({ ...d, cdn })).toEqual({ status: "conflict", keyId: "k1" });
    expect(w.keys.has("k0")).toBe(true);
  });

  it("never logs a key value", async () => {
    const log: string[] = [];
    const w = world({ failSet: "after" });
    await rotateApiKey(deps(w, log));
    expect(log.length).toBeGreaterThan(0);
    expect(log.join("\n")).not.toMatch(/secret-value/);
  });
});
