import { afterEach, describe, expect, it, vi } from "vitest";
import { DataKeyCache, type DataKeyCacheLimits } from "./data-key-cache.ts";

interface Key {
  readonly id: number;
  zeroed: boolean;
}

function setup(limits: Partial<DataKeyCacheLimits> = {}, loadDelayMs = 0) {
  let loads = 0;
  const disposed: number[] = [];
  const cache = new DataKeyCache<Key>(
    { maxAgeMs: 60_000, maxMessages: 100, maxBytes: 1_000_000, maxEntries: 10, ...limits },
    (key) => {
      key.zeroed = true;
      disposed.push(key.id);
    },
  );
  const load = async (): Promise<Key> => {
    const id = ++loads;
    if (loadDelayMs) await new Promise((r) => setTimeout(r, loadDelayMs));
    return { id, zeroed: false };
  };
  // `take` copies synchronously, as the real materials manager does.
  const use = (key: string, bytes = 10) => cache.use(key, bytes, load, (k) => ({ ...k }));
  return { cache, use, disposed, loads: () => loads };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("DataKeyCache", () => {
  it("a cold burst of 50 concurrent uses makes exactly one load", async () => {
    const { use, loads } = setup({}, 5);
    const got = await Promise.all(Array.from({ length: 50 }, () => use("p")));
    expect(loads()).toBe(1);
    expect(new Set(got.map((k) => k.id))).toEqual(new Set([1]));
  });

  it("a cold burst larger than maxMessages makes just enough loads", async () => {
    const { use, loads } = setup({ maxMessages: 10 }, 5);
    const got = await Promise.all(Array.from({ length: 50 }, () => use("p")));
    expect(loads()).toBe(5);
    const perKey = new Map<number, number>();
    for (const k of got) perKey.set(k.id, (perKey.get(k.id) ?? 0) + 1);
    expect([...perKey.values()].every((n) => n <= 10)).toBe(true);
  });

  it("maxMessages forces a new key after the limit", async () => {
    const { use, loads, disposed } = setup({ maxMessages: 3 });
    for (let i = 0; i < 3; i++) await use("p");
    expect(loads()).toBe(1);
    expect((await use("p")).id).toBe(2);
    expect(disposed).toEqual([1]);
  });

  it("maxBytes forces a new key once the bytes would exceed it", async () => {
    const { use, loads } = setup({ maxBytes: 100 });
    await use("p", 60);
    await use("p", 40);
    expect(loads()).toBe(1);
    await use("p", 1);
    expect(loads()).toBe(2);
  });

  it("a message larger than maxBytes gets a key of its own, never cached", async () => {
    const { use, loads, disposed, cache } = setup({ maxBytes: 100 });
    await use("p", 10);
    expect((await use("p", 101)).id).toBe(2);
    expect(disposed).toContain(2);
    expect((await use("p", 10)).id).toBe(1);
    expect(loads()).toBe(2);
    expect(cache.stats().entries).toBe(1);
  });

  it("maxAgeMs forces a new key once the entry is older", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const { use, loads, disposed } = setup({ maxAgeMs: 1000 });
    await use("p");
    vi.setSystemTime(new Date("2026-01-01T00:00:00.999Z"));
    await use("p");
    expect(loads()).toBe(1);
    vi.setSystemTime(new Date("2026-01-01T00:00:01Z"));
    expect((await use("p")).id).toBe(2);
    expect(disposed).toEqual([1]);
  });

  it("keys are partitioned: another key never shares an entry", async () => {
    const { use, loads } = setup();
    const a = await use("a");
    const b = await use("b");
    expect(a.id).not.toBe(b.id);
    expect(loads()).toBe(2);
  });

  it("maxEntries evicts (and zeroes) the least recently used entry", async () => {
    const { use, disposed, cache } = setup({ maxEntries: 2 });
    await use("a");
    await use("b");
    await use("a");
    await use("c");
    expect(disposed).toEqual([2]);
    expect(cache.stats().entries).toBe(2);
  });

  it("a failed load fails every waiter once and is not cached", async () => {
    let calls = 0;
    const cache = new DataKeyCache<Key>(
      { maxAgeMs: 60_000, maxMessages: 100, maxBytes: 1000, maxEntries: 10 },
      () => {},
    );
    const failing = async (): Promise<Key> => {
      calls++;
      await new Promise((r) => setTimeout(r, 2));
      throw new Error("KMS down");
    };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => cache.use("p", 1, failing, (k) => k)),
    );
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(calls).toBe(1);
    await cache.use(
      "p",
      1,
      async () => ({ id: 9, zeroed: false }),
      (k) => k,
    );
    expect(cache.stats()).toMatchObject({ entries: 1, loads: 2 });
  });

  it("clear() zeroes every entry", async () => {
    const { use, cache, disposed } = setup();
    await use("a");
    await use("b");
    cache.clear();
    expect(disposed.sort()).toEqual([1, 2]);
    expect(cache.stats().entries).toBe(0);
  });

  it("a load slower than maxAgeMs still serves its waiters (no livelock)", async () => {
    const { use, loads } = setup({ maxAgeMs: 1 }, 20);
    const got = await Promise.all(Array.from({ length: 5 }, () => use("p")));
    expect(got.every((k) => k.id === 1)).toBe(true);
    expect(loads()).toBe(1);
  });
});
