/**
 * The BigInt point codec must answer exactly as the SDK's bn.js one: on real keys (node:crypto), on
 * arbitrary x coordinates (including x ≥ p and x with no point on the curve), and on malformed input.
 */
import { createECDH, createPublicKey, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeNamedCurves } from "./ecc-decode.ts";
import { encodeNamedCurves } from "./ecc-encode.ts";
import { original, outcome } from "./test-support.ts";

const curves = [
  { node: "prime256v1", web: "P-256", bytes: 32 },
  { node: "secp384r1", web: "P-384", bytes: 48 },
] as const;

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("ecc_decode and ecc_encode replacements", () => {
  it("name the same curves", () => {
    expect(Object.keys(decodeNamedCurves).sort()).toEqual(
      Object.keys(original.eccDecode.decodeNamedCurves).sort(),
    );
    expect(Object.keys(encodeNamedCurves).sort()).toEqual(
      Object.keys(original.eccEncode.encodeNamedCurves).sort(),
    );
    expect(Object.isFrozen(decodeNamedCurves) && Object.isFrozen(encodeNamedCurves)).toBe(true);
    for (const { node, web } of curves) {
      expect(decodeNamedCurves[node]).toBe(decodeNamedCurves[web]);
      expect(encodeNamedCurves[node]).toBe(encodeNamedCurves[web]);
    }
  });

  for (const curve of curves) {
    const ours = { decode: decodeNamedCurves[curve.web], encode: encodeNamedCurves[curve.web] };
    const sdk = {
      decode: original.eccDecode.decodeNamedCurves[curve.node]!,
      encode: original.eccEncode.encodeNamedCurves[curve.node]!,
    };

    it(`${curve.web}: round-trips real public keys like the SDK (node:crypto keys)`, () => {
      fc.assert(
        fc.property(fc.integer(), () => {
          const ecdh = createECDH(curve.node);
          ecdh.generateKeys();
          const uncompressed = new Uint8Array(ecdh.getPublicKey());
          const compressed = new Uint8Array(ecdh.getPublicKey(undefined, "compressed"));
          expect(hex(ours.encode(uncompressed))).toBe(hex(compressed));
          expect(hex(sdk.encode(uncompressed))).toBe(hex(compressed));
          expect(hex(ours.decode(compressed))).toBe(hex(uncompressed));
          expect(hex(sdk.decode(compressed))).toBe(hex(uncompressed));
        }),
        { numRuns: 200 },
      );
    });

    it(`${curve.web}: decodes a generateKeyPairSync key to the point node:crypto exports`, () => {
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: curve.node });
      const jwk = publicKey.export({ format: "jwk" });
      const x = Buffer.from(jwk.x!, "base64url");
      const y = Buffer.from(jwk.y!, "base64url");
      const compressed = Buffer.concat([Buffer.from([2 + (y[y.length - 1]! & 1)]), x]);
      expect(hex(ours.decode(compressed))).toBe(hex(Buffer.concat([Buffer.from([4]), x, y])));
      const spki = createPublicKey({ key: { kty: "EC", crv: curve.web, x: jwk.x, y: jwk.y }, format: "jwk" });
      expect(spki.equals(publicKey)).toBe(true);
    });

    it(`${curve.web}: decodes any x and prefix exactly as the SDK (x ≥ p, x off the curve)`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(2, 3),
          fc.oneof(
            fc.uint8Array({ minLength: curve.bytes, maxLength: curve.bytes }),
            fc.constant(new Uint8Array(curve.bytes).fill(0xff)),
            fc.constant(new Uint8Array(curve.bytes)),
          ),
          (prefix, x) => {
            const point = Buffer.concat([Buffer.from([prefix]), x]);
            expect(hex(ours.decode(point))).toBe(hex(sdk.decode(point)));
          },
        ),
        { numRuns: 300 },
      );
    });

    it(`${curve.web}: encodes any bytes of the right length exactly as the SDK`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1 + 2 * curve.bytes, maxLength: 1 + 2 * curve.bytes }),
          (key) => {
            expect(hex(ours.encode(key))).toBe(hex(sdk.encode(key)));
          },
        ),
      );
    });

    it(`${curve.web}: refuses what the SDK refuses`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 2 * curve.bytes + 3 }), (bytes) => {
          const decoded = [outcome(() => hex(ours.decode(bytes))), outcome(() => hex(sdk.decode(bytes)))];
          // The SDK throws a bn.js TypeError for a prefix other than 02/03; ours says so.
          if ("threw" in decoded[1]! || "threw" in decoded[0]!) {
            expect("threw" in decoded[0]! && "threw" in decoded[1]!).toBe(true);
            if (bytes.byteLength !== 1 + curve.bytes) expect(decoded[0]).toEqual(decoded[1]);
          } else {
            expect(decoded[0]).toEqual(decoded[1]);
          }
          expect(outcome(() => hex(ours.encode(bytes)))).toEqual(outcome(() => hex(sdk.encode(bytes))));
        }),
        { numRuns: 500 },
      );
      const badPrefix = new Uint8Array(1 + curve.bytes).fill(4);
      expect(() => ours.decode(badPrefix)).toThrow(/prefix/);
      expect(() => sdk.decode(badPrefix)).toThrow();
    });
  }
});
