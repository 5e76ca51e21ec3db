/** The frame AAD without bn.js must be the SDK's, byte for byte, and refuse what the SDK refuses. */
import { ContentAADString, ContentType } from "@aws-crypto/serialize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { aadFactory } from "./aad-factory.ts";
import { original, outcome } from "./test-support.ts";

const fromUtf8 = (s: string) => Buffer.from(s, "utf8");
const ours = aadFactory(fromUtf8);
const sdk = original.aadFactory.aadFactory(fromUtf8);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("aad_factory replacement", () => {
  it("names every content string as the SDK does", () => {
    for (const contentType of [ContentType.NO_FRAMING, ContentType.FRAMED_DATA, 0, 3] as ContentType[]) {
      for (const isFinalFrame of [true, false]) {
        expect(outcome(() => ours.messageAADContentString({ contentType, isFinalFrame }))).toEqual(
          outcome(() => sdk.messageAADContentString({ contentType, isFinalFrame })),
        );
      }
    }
    expect(ours.messageAADContentString({ contentType: ContentType.FRAMED_DATA, isFinalFrame: true })).toBe(
      ContentAADString.FINAL_FRAME_STRING_ID,
    );
  });

  it("writes the SDK's AAD for any message id, sequence number and content length", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 32 }), fc.uint8Array({ maxLength: 40 })),
        fc.constantFrom(...Object.values(ContentAADString)),
        fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1)),
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 32 }),
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.constantFrom(0, 2 ** 26, 2 ** 52, Number.MAX_SAFE_INTEGER),
        ),
        (id, label, seq, length) => {
          expect(hex(ours.messageAAD(id, label, seq, length))).toBe(
            hex(sdk.messageAAD(id, label, seq, length)),
          );
          // An offset view into a larger buffer, as a Node Buffer from the pool is.
          const pooled = Buffer.concat([Buffer.from([9, 9, 9]), id]).subarray(3);
          expect(hex(ours.messageAAD(pooled, label, seq, length))).toBe(
            hex(sdk.messageAAD(id, label, seq, length)),
          );
        },
      ),
    );
  });

  it("refuses sequence numbers and lengths the SDK refuses", () => {
    const id = new Uint8Array(32);
    const label = ContentAADString.FRAME_STRING_ID;
    for (const [seq, length] of [
      [2 ** 32, 1],
      [-1, 1],
      [Number.NaN, 1],
      [1, 2 ** 53],
      [1, Number.POSITIVE_INFINITY],
    ] as const) {
      expect(outcome(() => ours.messageAAD(id, label, seq, length))).toHaveProperty("threw");
      expect(outcome(() => sdk.messageAAD(id, label, seq, length))).toHaveProperty("threw");
    }
    // bn.js drops the sign and the fraction and reads NaN as 0; no SDK caller passes any of them, and
    // ours refuses them.
    for (const length of [-1, 1.5, Number.NaN]) {
      expect(() => ours.messageAAD(id, label, 1, length)).toThrow(/content length/);
    }
  });
});
