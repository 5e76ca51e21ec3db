import { describe, expect, it } from "vitest";
import { newMessageId } from "./message-id.ts";

describe("newMessageId", () => {
  it("hands out ids of the asked length that never repeat, across pool refills", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newMessageId(i % 2 === 0 ? 32 : 16);
      expect(id.byteLength).toBe(i % 2 === 0 ? 32 : 16);
      seen.add(id.toString("hex"));
    }
    expect(seen.size).toBe(2000);
  });

  it("returns copies: neither changing another id nor refilling the pool changes one", () => {
    const a = newMessageId(32);
    const before = Buffer.from(a);
    const b = newMessageId(32);
    b.fill(0);
    for (let i = 0; i < 300; i++) newMessageId(32);
    expect(a.equals(before)).toBe(true);
  });

  it("looks random: no zero ids, every byte value appears", () => {
    const counts = new Uint32Array(256);
    for (let i = 0; i < 1000; i++) {
      const id = newMessageId(32);
      expect(id.equals(Buffer.alloc(32))).toBe(false);
      for (const byte of id) counts[byte]!++;
    }
    expect(counts.every((n) => n > 0)).toBe(true);
  });

  it("refuses lengths outside 1–256", () => {
    for (const bad of [0, -1, 257, 1.5, Number.NaN]) expect(() => newMessageId(bad)).toThrow(RangeError);
  });
});
