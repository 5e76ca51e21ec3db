/** The shared pieces around aws4fetch's signer: the date it takes and the bounded key cache. */
import { describe, expect, it } from "vitest";
import { AwsV4Signer, amzDate, BoundedCache } from "./signer.ts";

describe("signer", () => {
  it("formats the signing date as SigV4 wants it", () => {
    expect(amzDate(new Date("2026-01-02T03:04:05.678Z"))).toBe("20260102T030405Z");
  });

  it("keeps at most `limit` signing keys, forgetting the first one stored", () => {
    const cache = new BoundedCache<string, number>(2);
    cache.set("a", 1).set("b", 2).set("b", 3).set("c", 4);
    expect([...cache]).toEqual([
      ["b", 3],
      ["c", 4],
    ]);
  });

  it("signs the same with a cache that has forgotten the key", async () => {
    const cache = new BoundedCache<string, ArrayBuffer>(1);
    const sign = (secretAccessKey: string) =>
      new AwsV4Signer({
        url: "https://kms.eu-central-2.amazonaws.com/",
        method: "POST",
        body: "{}",
        accessKeyId: "AKID",
        secretAccessKey,
        service: "kms",
        region: "eu-central-2",
        datetime: "20260102T030405Z",
        cache,
      }).authHeader();
    const first = await sign("one");
    await sign("two");
    expect(cache.size).toBe(1);
    expect(await sign("one")).toBe(first);
  });
});
