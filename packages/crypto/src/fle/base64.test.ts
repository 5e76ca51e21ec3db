/**
 * The one-pass decoder of percent-encoded base64 must never answer differently from the general path
 * it shortcuts (percent-decoding, then the tolerant base64 decoder), whatever the input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEscapedBase64, decodeTolerantBase64 } from "./base64.ts";

/** The general path: what decryptFleForm did for every value before the fast path. */
function general(raw: string): Uint8Array | undefined | "throws" {
  let text: string;
  try {
    text = decodeURIComponent(raw);
  } catch {
    return "throws";
  }
  return decodeTolerantBase64(text);
}

const escapes: Record<string, string[]> = {
  "+": ["+", "%2B", "%2b"],
  "/": ["/", "%2F", "%2f"],
  "=": ["=", "%3D", "%3d"],
};

/** Base64 of random bytes with its `+`, `/` and `=` escaped at random, as form encoders do. */
const escapedBase64 = fc
  .tuple(fc.uint8Array({ minLength: 1, maxLength: 120 }), fc.infiniteStream(fc.nat(2)))
  .map(([bytes, picks]) => {
    const it = picks[Symbol.iterator]();
    return Buffer.from(bytes)
      .toString("base64")
      .replace(/[+/=]/g, (c) => escapes[c]![it.next().value as number]!);
  });

/** Damage of every kind the general path handles or refuses. */
const damage = fc.constantFrom(
  "%41",
  "%4",
  "%",
  "%ZZ",
  "%E0%A4%A",
  " ",
  "-",
  "_",
  "=",
  "==",
  "%3D%3D%3D",
  "\n",
  "é",
  "A",
  "AB",
  "%2B",
  "%2F",
);

const damaged = fc
  .tuple(escapedBase64, fc.array(fc.tuple(fc.nat(), damage), { maxLength: 3 }), fc.nat(4))
  .map(([value, edits, cut]) => {
    let out = value;
    for (const [at, piece] of edits) {
      const i = at % (out.length + 1);
      out = out.slice(0, i) + piece + out.slice(i);
    }
    return cut ? out.slice(0, -cut) : out;
  });

describe("decodeEscapedBase64", () => {
  it("takes the fast path for what form encoders write, with the general path's bytes", () => {
    fc.assert(
      fc.property(escapedBase64, (raw) => {
        const fast = decodeEscapedBase64(raw);
        expect(fast).toBeDefined();
        expect(Buffer.from(fast!).equals(Buffer.from(general(raw) as Uint8Array))).toBe(true);
      }),
      { numRuns: 500 },
    );
    const raw = encodeURIComponent(Buffer.from("any carnal pleasure.").toString("base64"));
    expect(raw).toContain("%3D");
    expect(decodeEscapedBase64(raw)?.toString()).toBe("any carnal pleasure.");
  });

  it("answers only when the general path answers the same, on damaged and arbitrary input", () => {
    fc.assert(
      fc.property(
        fc.oneof(damaged, fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 })),
        (raw) => {
          const fast = decodeEscapedBase64(raw);
          if (fast === undefined) return;
          const slow = general(raw);
          expect(slow).toBeInstanceOf(Uint8Array);
          expect(Buffer.from(fast).equals(Buffer.from(slow as Uint8Array))).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("leaves to the general path what it does not handle", () => {
    for (const raw of [
      "",
      "QQ",
      "QQ%3D",
      "QQ%3D%3D%3D",
      "Q%41%3D%3D",
      "QR==QQ==",
      "Q Q=",
      "QQ-_",
      "%2",
      "%ZZ",
    ]) {
      expect(decodeEscapedBase64(raw)).toBeUndefined();
    }
    // Non-zero trailing bits are ignored by both, as by Node's decoder.
    expect(decodeEscapedBase64("QR%3D%3D")).toEqual(Buffer.from("QR==", "base64"));
  });
});
