import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalContext, openBlob, readBlobHeader, sealBlob } from "./blob.ts";
import { KmsError } from "./errors.ts";

const header = { keyId: "0b0e7a32-4b3a-4a8e-9a55-3cbd1f2d9e10", materialVersion: 3 };
const material = randomBytes(32);

describe("ciphertext blob", () => {
  it("round-trips and names its key and material version", () => {
    const blob = sealBlob(header, material, Buffer.from("data key"), { b: "2", a: "1" });
    expect(readBlobHeader(blob)).toMatchObject(header);
    expect(openBlob(blob, material, { a: "1", b: "2" }).toString()).toBe("data key");
  });

  it("binds the context canonically: order never matters, content always does", () => {
    expect(canonicalContext({ b: "2", a: "1" }).equals(canonicalContext({ a: "1", b: "2" }))).toBe(true);
    expect(canonicalContext(undefined).toString()).toBe("{}");
    const blob = sealBlob(header, material, Buffer.from("x"), { a: "1" });
    expect(() => openBlob(blob, material, { a: "2" })).toThrow(KmsError);
    expect(() => openBlob(blob, material, {})).toThrow(KmsError);
    expect(() => openBlob(blob, material, { a: "1", extra: "" })).toThrow(KmsError);
    expect(() => openBlob(blob, randomBytes(32), { a: "1" })).toThrow(KmsError);
  });

  it("detects any single flipped bit", () => {
    const blob = sealBlob(header, material, Buffer.from("some plaintext"), { a: "1" });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: blob.length * 8 - 1 }), (bit) => {
        const copy = Buffer.from(blob);
        copy[bit >> 3]! ^= 1 << (bit & 7);
        let opened: Buffer | undefined;
        try {
          opened = openBlob(copy, material, { a: "1" });
        } catch (err) {
          return err instanceof KmsError && err.type === "InvalidCiphertextException";
        }
        return opened === undefined;
      }),
      { numRuns: 200 },
    );
  });

  it("refuses truncated or foreign blobs with InvalidCiphertextException", () => {
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([1]),
      Buffer.from([2, 36]),
      randomBytes(10),
      Buffer.alloc(80, 1),
    ]) {
      expect(() => readBlobHeader(bad)).toThrow(
        expect.objectContaining({ type: "InvalidCiphertextException" }),
      );
    }
  });
});
