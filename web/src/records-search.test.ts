import { describe, expect, it } from "vitest";
import { buildSearchIndex, fold, type ListPage, loadAllForSearch } from "./records-search.ts";

const people = [
  { id: "1", fullName: "Zoë Müller", insuranceNumber: "756.1234.5678.97", diagnosis: "Type 2 diabetes" },
  { id: "2", fullName: "José Álvarez", insuranceNumber: "AB-99-0001", diagnosis: "Hypertension, essential" },
  { id: "3", fullName: "Ada Lovelace", diagnosis: "Fracture of the left radius" },
  { id: "4", fullName: "Ingrid Ødegård", insuranceNumber: "NO 123 456" },
];
const index = buildSearchIndex(people);
const ids = (query: string) => index.search(query).map((p) => p.id);

describe("fold", () => {
  it("drops case and accents (NFD) and collapses whitespace", () => {
    expect(fold("  Zoë   MÜLLER ")).toBe("zoe muller");
    expect(fold("José Álvarez")).toBe("jose alvarez");
    expect(fold("Cafe\u0301")).toBe("cafe"); // already decomposed
    expect(fold("ÅNGSTRÖM\tñandú")).toBe("angstrom nandu");
  });
});

describe("buildSearchIndex", () => {
  it("finds by a substring of the name, case- and accent-insensitively", () => {
    expect(ids("muller")).toEqual(["1"]);
    expect(ids("MÜLL")).toEqual(["1"]);
    expect(ids("alvarez")).toEqual(["2"]);
    expect(ids("álvaréz")).toEqual(["2"]);
    expect(ids("love")).toEqual(["3"]);
  });

  it("finds by the insurance number, with or without its separators", () => {
    expect(ids("756.1234")).toEqual(["1"]);
    expect(ids("75612345678")).toEqual(["1"]);
    expect(ids("ab990001")).toEqual(["2"]);
    expect(ids("no123")).toEqual(["4"]);
  });

  it("finds by the diagnosis text", () => {
    expect(ids("diabetes")).toEqual(["1"]);
    expect(ids("HYPERTENSION")).toEqual(["2"]);
    expect(ids("radius")).toEqual(["3"]);
  });

  it("needs every word of the query, in any field and any order", () => {
    expect(ids("zoe diabetes")).toEqual(["1"]);
    expect(ids("diabetes zoe")).toEqual(["1"]);
    expect(ids("zoe hypertension")).toEqual([]);
    expect(ids("e")).toEqual(["1", "2", "3", "4"]);
  });

  it("finds everything for an empty query, nothing for an unknown word, and keeps the list's order", () => {
    expect(ids("")).toEqual(["1", "2", "3", "4"]);
    expect(ids("   ")).toEqual(["1", "2", "3", "4"]);
    expect(ids("nobody")).toEqual([]);
    expect(index.size).toBe(4);
  });

  it("does not match across field boundaries or on regular-expression syntax", () => {
    expect(ids("lovelace fracture")).toEqual(["3"]);
    expect(ids("lovelacefracture")).toEqual([]);
    expect(ids(".*")).toEqual([]);
    expect(ids("/")).toEqual([]); // a separator alone is no insurance number
  });
});

describe("loadAllForSearch", () => {
  const pages = (count: number, perPage: number) => {
    const asked: Array<[string | undefined, number]> = [];
    const load = async (cursor: string | undefined, limit: number): Promise<ListPage<{ n: number }>> => {
      asked.push([cursor, limit]);
      const page = cursor ? Number(cursor) : 0;
      const items = Array.from({ length: Math.min(perPage, limit) }, (_, i) => ({ n: page * perPage + i }));
      return page + 1 < count ? { items, nextCursor: String(page + 1) } : { items };
    };
    return { load, asked };
  };

  it("follows the cursors to the last page, one page after the other", async () => {
    const { load, asked } = pages(3, 100);
    const result = await loadAllForSearch(load);
    expect(result.complete).toBe(true);
    expect(result.items.map((i) => i.n)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(asked).toEqual([
      [undefined, 100],
      ["1", 100],
      ["2", 100],
    ]);
  });

  it("stops at maxItems and says the result is incomplete", async () => {
    const { load, asked } = pages(10, 100);
    const result = await loadAllForSearch(load, { maxItems: 250 });
    expect(result.items).toHaveLength(250);
    expect(result.complete).toBe(false);
    expect(asked.map(([, limit]) => limit)).toEqual([100, 100, 50]);
  });

  it("stops between pages once aborted", async () => {
    const controller = new AbortController();
    const { load, asked } = pages(5, 10);
    const aborting = async (cursor: string | undefined, limit: number) => {
      const page = await load(cursor, limit);
      if (asked.length === 2) controller.abort();
      return page;
    };
    await expect(loadAllForSearch(aborting, { signal: controller.signal })).rejects.toThrow();
    expect(asked).toHaveLength(2);
  });
});
