/**
 * The hand-built DER must be byte for byte what asn1.js writes, and node:crypto must load it as the
 * same key (sign with the private PEM, verify with the public PEM).
 */
import { createECDH, createPrivateKey, createPublicKey, createSign, createVerify } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunk64, privateKeyPem, publicKeyPem } from "./pem-helpers.ts";
import { original, outcome } from "./test-support.ts";

const sdk = original.pemHelpers;

/** 0–300 bytes, lengths spread evenly: real P-256/P-384 keys never reach DER's long length form. */
const anyBytes = fc
  .integer({ min: 0, max: 300 })
  .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
  .map((b) => Buffer.from(b));
const curves = ["prime256v1", "secp384r1"] as const;

describe("pem_helpers replacement", () => {
  for (const curve of curves) {
    it(`${curve}: writes the SDK's PEM for real keys, and node:crypto signs and verifies with them`, () => {
      fc.assert(
        fc.property(fc.integer(), () => {
          const ecdh = createECDH(curve);
          ecdh.generateKeys();
          const privateKey = ecdh.getPrivateKey();
          const compressed = ecdh.getPublicKey(undefined, "compressed");
          const uncompressed = ecdh.getPublicKey();
          const privatePem = privateKeyPem(curve, privateKey, compressed);
          const publicPem = publicKeyPem(curve, uncompressed);
          expect(privatePem).toBe(sdk.privateKeyPem(curve, privateKey, compressed));
          expect(publicPem).toBe(sdk.publicKeyPem(curve, uncompressed));

          const signature = createSign("sha384").update("veil").sign(privatePem);
          expect(createVerify("sha384").update("veil").verify(publicPem, signature)).toBe(true);
          expect(createPublicKey(createPrivateKey(privatePem)).equals(createPublicKey(publicPem))).toBe(true);
        }),
        { numRuns: 50 },
      );
    });

    it(`${curve}: writes the SDK's bytes for any key material (short and long DER lengths)`, () => {
      fc.assert(
        fc.property(anyBytes, anyBytes, (a, b) => {
          expect(publicKeyPem(curve, a)).toBe(sdk.publicKeyPem(curve, a));
          expect(privateKeyPem(curve, a, b)).toBe(sdk.privateKeyPem(curve, a, b));
        }),
      );
    });
  }

  it("refuses a curve asn1.js has no OID for, as the SDK does", () => {
    for (const curve of ["P-384", "secp256k1", "", "__proto__", "toString"]) {
      const key = Buffer.alloc(97, 4);
      expect(outcome(() => publicKeyPem(curve, key))).toHaveProperty("threw");
      expect(outcome(() => sdk.publicKeyPem(curve, key))).toHaveProperty("threw");
      expect(outcome(() => privateKeyPem(curve, key, key))).toHaveProperty("threw");
      expect(outcome(() => sdk.privateKeyPem(curve, key, key))).toHaveProperty("threw");
    }
  });

  it("chunk64 splits like the SDK's", () => {
    fc.assert(
      fc.property(anyBytes, (b) => {
        expect(chunk64(b)).toEqual(sdk.chunk64(b));
      }),
    );
  });
});
