import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import type { ImageContentType } from "@veil/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ImageRejectedError } from "../errors.ts";
import { type ImageFixture, jpegFixture, pdfFixture, pngFixture, webpFixture } from "../testing/images.ts";
import { detectImageType, sanitizeImage } from "./sanitize.ts";

/** Runs `bytes` through the sanitizer in pieces of the given sizes (cycled). */
async function sanitize(
  bytes: Buffer,
  pieces: number[] = [bytes.length || 1],
  declaredType?: ImageContentType,
) {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, pieces[i % pieces.length] as number);
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  const sanitizer = sanitizeImage(declaredType ? { declaredType } : {});
  const out = await buffer(Readable.from(chunks).pipe(sanitizer));
  return { out, sanitizer };
}

const rejection = async (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ImageRejectedError,
  );

const secret = "CANARY-gps-51.5N";
const fixtures: Record<string, () => ImageFixture> = {
  jpeg: () => jpegFixture({ exifText: secret, comment: secret, trailer: Buffer.from(secret) }),
  png: () => pngFixture({ text: secret }),
  webp: () => webpFixture({ text: secret }),
  pdf: () => pdfFixture({ text: secret }),
};

describe("metadata stripping produces exactly the image without its metadata", () => {
  for (const [name, make] of Object.entries(fixtures)) {
    it(`${name}: whole, and in every way of cutting it into pieces`, async () => {
      const { original, stripped } = make();
      expect(original.includes(secret)).toBe(true);
      const { out, sanitizer } = await sanitize(original);
      expect(out.equals(stripped)).toBe(true);
      expect(out.includes(secret)).toBe(false);
      expect(Object.keys(sanitizer.removed).length).toBeGreaterThan(0);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
          async (cuts) => {
            expect((await sanitize(original, cuts)).out.equals(stripped)).toBe(true);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it("jpeg: the GPS block is gone, the JFIF header and pixel-carrying bytes stay", async () => {
    const kept = Buffer.from("KEPT-bytes-in-thumbnail!");
    const { original, stripped } = jpegFixture({ keptBytes: kept, exifText: secret });
    const { out, sanitizer } = await sanitize(original);
    expect(out.equals(stripped)).toBe(true);
    expect(out.includes(kept)).toBe(true);
    expect(out.includes(Buffer.from("Exif\0\0"))).toBe(false);
    expect(sanitizer.removed).toEqual({ APP1: 1 });
    expect(sanitizer.detectedType).toBe("image/jpeg");
  });

  it("a stripped image is a fixed point", async () => {
    for (const make of Object.values(fixtures)) {
      const { stripped } = make();
      expect((await sanitize(stripped)).out.equals(stripped)).toBe(true);
    }
  });
});

describe("the type comes from the bytes", () => {
  it("detects the four accepted types and nothing else", () => {
    expect(detectImageType(jpegFixture().original)).toBe("image/jpeg");
    expect(detectImageType(pngFixture().original)).toBe("image/png");
    expect(detectImageType(webpFixture().original)).toBe("image/webp");
    expect(detectImageType(pdfFixture().original)).toBe("application/pdf");
    expect(detectImageType(Buffer.from("GIF89a......"))).toBeUndefined();
    expect(detectImageType(Buffer.from("<svg xmlns=..."))).toBeUndefined();
    expect(detectImageType(Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0]))).toBeUndefined();
  });

  it("an unsupported type is refused, even when declared as an image", async () => {
    const gif = Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1");
    expect(await rejection(sanitize(gif, undefined, "image/png"))).toMatchObject({
      reason: "unsupportedType",
    });
    expect(await rejection(sanitize(Buffer.from("hi")))).toMatchObject({ reason: "unsupportedType" });
    expect(await rejection(sanitize(Buffer.alloc(0)))).toMatchObject({ reason: "unsupportedType" });
  });

  it("bytes of another accepted type than declared are a typeMismatch", async () => {
    const err = await rejection(sanitize(pdfFixture().original, undefined, "image/jpeg"));
    expect(err).toMatchObject({ reason: "typeMismatch" });
  });
});

describe("broken files are corrupt, never passed through", () => {
  const cases: Array<[string, () => Buffer]> = [
    ["jpeg truncated", () => jpegFixture().original.subarray(0, 200)],
    ["jpeg without a scan", () => Buffer.from([0xff, 0xd8, 0xff, 0xd9, ...randomBytes(8)])],
    ["jpeg bad segment length", () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, ...randomBytes(8)])],
    ["png truncated", () => pngFixture().original.subarray(0, 60)],
    [
      "png bad CRC",
      () => {
        const b = Buffer.from(pngFixture().original);
        b[30] = (b[30] as number) ^ 1; // inside IHDR
        return b;
      },
    ],
    [
      "png unknown critical chunk",
      () => {
        const { original } = pngFixture();
        const b = Buffer.from(original);
        b.write("ABCD", 8 + 12 + 4, "latin1"); // rename IHDR
        return b;
      },
    ],
    [
      "webp chunk past the RIFF end",
      () => {
        const b = Buffer.from(webpFixture().original);
        b.writeUInt32LE(1 << 20, 16); // VP8X size
        return b;
      },
    ],
    ["webp truncated", () => webpFixture().original.subarray(0, 40)],
    ["pdf without %%EOF", () => pdfFixture().original.subarray(0, 300)],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const err = await rejection(sanitize(make()));
      expect(err).toBeInstanceOf(ImageRejectedError);
      expect(err).toMatchObject({ reason: "corrupt" });
    });
  }

  it("random bytes after a valid magic number never crash the parser", async () => {
    const magics = [
      Buffer.from([0xff, 0xd8, 0xff]),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from("RIFF\x10\x00\x00\x00WEBP", "latin1"),
      Buffer.from("%PDF-"),
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 300 }), async (magic, rest) => {
        const result = await sanitize(Buffer.concat([magic, rest])).then(
          () => "ok",
          (e: unknown) => (e instanceof ImageRejectedError ? "rejected" : "crashed"),
        );
        expect(result).not.toBe("crashed");
      }),
      { numRuns: 300 },
    );
  });
});
