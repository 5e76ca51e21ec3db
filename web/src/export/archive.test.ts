import { strFromU8, unzipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { archiveName, buildArchive, imagePath } from "./archive.ts";
import { collectExport } from "./collect.ts";
import type { ExportedRecord } from "./model.ts";

const at = new Date("2026-12-07T20:00:00.000Z");

function record(id: string, name: string, images: ExportedRecord["images"] = []): ExportedRecord {
  return {
    id,
    category: "cardiology",
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-02T10:00:00.000Z",
    version: 2,
    fullName: name,
    dateOfBirth: "1970-05-06",
    insuranceNumber: "CH123",
    diagnosis: 'Ünïcode diagnosis ✓ with "quotes" and\nnew lines',
    notes: "",
    images,
  } as ExportedRecord;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 256);

describe("the export archive", () => {
  it("holds records.json with every record and field, and each image byte for byte at its path", () => {
    const img = {
      id: "img-1",
      status: "ready",
      contentType: "image/png",
      size: 300,
      createdAt: at.toISOString(),
    } as const;
    const pending = {
      id: "img-2",
      status: "pending",
      contentType: "image/jpeg",
      createdAt: at.toISOString(),
    } as const;
    const records = [record("rec-1", "Ada Example", [img, pending]), record("rec-2", "Bob Example")];
    const png = bytes(300, 7);
    const pdf = bytes(70_000, 3);
    const zip = buildArchive({
      exportedAt: at,
      records,
      files: [
        { recordId: "rec-1", imageId: "img-1", contentType: "image/png", bytes: png },
        { recordId: "rec-2", imageId: "img-3", contentType: "application/pdf", bytes: pdf },
      ],
    });
    const entries = unzipSync(zip);
    expect(Object.keys(entries).sort()).toEqual(
      ["README.txt", "records.json", "images/rec-1/img-1.png", "images/rec-2/img-3.pdf"].sort(),
    );
    expect(entries["images/rec-1/img-1.png"]).toEqual(png);
    expect(entries["images/rec-2/img-3.pdf"]).toEqual(pdf);
    const doc = JSON.parse(strFromU8(entries["records.json"] as Uint8Array));
    expect(doc).toMatchObject({ format: "veil-export", version: 1, exportedAt: at.toISOString() });
    expect(doc.records).toHaveLength(2);
    expect(doc.records[0]).toEqual({
      ...records[0],
      images: [{ ...img, file: "images/rec-1/img-1.png" }, pending],
    });
    expect(doc.records[1]).toEqual(records[1]);
  });

  it("names files by type and the archive by date", () => {
    expect(imagePath({ recordId: "r", imageId: "i", contentType: "image/jpeg" })).toBe("images/r/i.jpg");
    expect(imagePath({ recordId: "r", imageId: "i", contentType: "image/webp" })).toBe("images/r/i.webp");
    expect(archiveName(at)).toBe("veil-export-2026-12-07.zip");
  });

  it("collects every page and every ready image, then builds the same archive", async () => {
    const ready = (id: string) =>
      ({ id, status: "ready", contentType: "image/jpeg", size: 5, createdAt: at.toISOString() }) as const;
    const pages = [
      { items: [record("a", "A", [ready("ia1"), ready("ia2")])], nextCursor: "c1" },
      {
        items: [record("b", "B", [{ ...ready("ib1"), status: "rejected", reason: "corrupt" } as const])],
        nextCursor: "c2",
      },
      { items: [record("c", "C", [ready("ic1")])] },
    ];
    const asked: (string | undefined)[] = [];
    const downloaded: string[] = [];
    const input = await collectExport({
      page: async (cursor) => {
        asked.push(cursor);
        return pages[asked.length - 1] as (typeof pages)[number];
      },
      download: async (recordId, imageId) => {
        downloaded.push(`${recordId}/${imageId}`);
        return new Blob([new TextEncoder().encode(`jpeg:${imageId}`)]);
      },
      now: () => at,
    });
    expect(asked).toEqual([undefined, "c1", "c2"]);
    expect(downloaded.sort()).toEqual(["a/ia1", "a/ia2", "c/ic1"]);
    const entries = unzipSync(buildArchive(input));
    expect(strFromU8(entries["images/c/ic1.jpg"] as Uint8Array)).toBe("jpeg:ic1");
    expect(
      JSON.parse(strFromU8(entries["records.json"] as Uint8Array)).records.map((r: { id: string }) => r.id),
    ).toEqual(["a", "b", "c"]);
  });

  it("fetches the whole image list of a record whose page left images out, and fails without it", async () => {
    const ready = (id: string) =>
      ({ id, status: "ready", contentType: "image/png", size: 5, createdAt: at.toISOString() }) as const;
    const page = async () => ({ items: [{ ...record("a", "A", [ready("i1")]), imagesOmitted: 1 }] });
    const download = async (_r: string, imageId: string) => new Blob([new TextEncoder().encode(imageId)]);
    const input = await collectExport({
      page,
      download,
      images: async () => [ready("i1"), { ...ready("i2"), recordId: "a", updatedAt: "" } as never],
      now: () => at,
    });
    expect(input.records[0]?.images.map((i) => i.id)).toEqual(["i1", "i2"]);
    expect(input.records[0]).not.toHaveProperty("imagesOmitted");
    expect(input.files.map((f) => f.imageId)).toEqual(["i1", "i2"]);
    await expect(collectExport({ page, download })).rejects.toThrow("left images out");
    // A shorter list than the page announced (the image list is bounded too): no incomplete archive.
    await expect(
      collectExport({ page, download, images: async () => [ready("i1")], now: () => at }),
    ).rejects.toThrow("could not list all images");
  });

  it("fails the whole export when one image cannot be fetched", async () => {
    await expect(
      collectExport({
        page: async () => ({
          items: [record("a", "A", [{ id: "x", status: "ready", contentType: "image/png", createdAt: "" }])],
        }),
        download: async () => {
          throw new Error("integrity");
        },
      }),
    ).rejects.toThrow("integrity");
  });
});
