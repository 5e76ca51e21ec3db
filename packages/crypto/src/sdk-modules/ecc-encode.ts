/**
 * Drop-in replacement of `@aws-crypto/material-management`'s `ecc_encode` module (same export, same
 * results, same precondition) without `bn.js`: the parity of y is the low bit of its last byte.
 * Swapped in at bundle time by `esbuild-plugin.mjs`; `ecc-encode.test.ts` compares it with the
 * original.
 */
import { needs } from "./needs.ts";

/*
 * 1. This only works for prime curves
 * 2. This will not handle the point at infinity
 */
function eccEncodeCompressedPoint(keyLength: number) {
  return function encode(publicKey: Uint8Array): Uint8Array {
    /* Precondition: publicKey must be the right length.
     * The format for the public key is [type, ...keyLength, ...keyLength]
     */
    needs(publicKey.byteLength === 1 + keyLength * 2, "Malformed public key.");
    const compressPoint = new Uint8Array(1 + keyLength);
    compressPoint[0] = 2 + ((publicKey[keyLength * 2] ?? 0) & 1);
    compressPoint.set(publicKey.subarray(1, keyLength + 1), 1);
    return compressPoint;
  };
}

const prime256v1 = eccEncodeCompressedPoint(32);
const secp384r1 = eccEncodeCompressedPoint(48);

/** Uncompressed point (04 ‖ x ‖ y) → compressed point (02/03 ‖ x), by curve name. */
export const encodeNamedCurves = Object.freeze({
  // NodeJS/OpenSSL names
  prime256v1,
  secp384r1,
  // WebCrypto/Browser names
  "P-256": prime256v1,
  "P-384": secp384r1,
});
