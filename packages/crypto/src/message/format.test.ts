/** Our frame AAD must be byte for byte the SDK's (`aadFactory().messageAAD`). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyAad, frameAad } from "./format.ts";

const contentStrings = [
  bodyAad.messageAADContentString({ contentType: 2, isFinalFrame: false }),
  bodyAad.messageAADContentString({ contentType: 2, isFinalFrame: true }),
  bodyAad.messageAADContentString({ contentType: 1, isFinalFrame: true }),
];

describe("frameAad", () => {
  it("equals the SDK's messageAAD for any id, content string, sequence number and length", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 32 }),
        fc.constantFrom(...contentStrings),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.constant(Number.MAX_SAFE_INTEGER)),
        (id, label, seq, length) => {
          const ours = frameAad(id, label, seq, length);
          const sdk = Buffer.from(bodyAad.messageAAD(id, label, seq, length));
          expect(ours.equals(sdk)).toBe(true);
        },
      ),
    );
  });

  it("refuses sequence numbers and lengths the format cannot hold", () => {
    const id = new Uint8Array(32);
    expect(() => frameAad(id, contentStrings[0]!, 2 ** 32, 1)).toThrow(RangeError);
    expect(() => frameAad(id, contentStrings[0]!, -1, 1)).toThrow(RangeError);
    expect(() => frameAad(id, contentStrings[0]!, 1, -1)).toThrow(RangeError);
    expect(() => frameAad(id, contentStrings[0]!, 1, 1.5)).toThrow(RangeError);
  });
});
