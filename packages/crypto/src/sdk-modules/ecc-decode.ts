/**
 * Drop-in replacement of `@aws-crypto/material-management`'s `ecc_decode` module (same export, same
 * results, same preconditions) with native BigInt instead of `bn.js`. The original builds two
 * `bn.js` Montgomery contexts at import and pulls 46 KB of `bn.js` into every bundle, while only the
 * signed (ECDSA) suites ever decode a point. Swapped in at bundle time by `esbuild-plugin.mjs`;
 * `ecc-decode.test.ts` compares it with the original on random and malformed points.
 */
import { bigIntFromBytes, bytesFromBigInt, needs } from "./needs.ts";

type Decode = (compressedPoint: Uint8Array) => Uint8Array;

/** `base ** exponent mod modulus` by square-and-multiply. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
    e >>= 1n;
  }
  return result;
}

/*
 * 1. This only works for prime curves (y² = x³ + ax + b over GF(p))
 * 2. This will not handle the point at infinity
 */
function eccDecodeCompressedPoint(p: bigint, a: bigint, b: bigint): Decode {
  // The square root below, y = α^((p+1)/4), holds only for p ≡ 3 (mod 4): true of P-256 and P-384.
  needs(p % 4n === 3n, "Curve not supported at this time");
  const rootExponent = (p + 1n) / 4n;
  const compressedLength = 1 + p.toString(2).length / 8;
  return function decode(compressedPoint: Uint8Array): Uint8Array {
    /* Precondition: compressedPoint must be the correct length. */
    needs(compressedPoint.byteLength === compressedLength, "Compressed point length is not correct.");
    // The SDK maps the prefix 02/03 to the parity of y; any other prefix makes it throw (a TypeError
    // from bn.js). Here with a message.
    const prefix = compressedPoint[0];
    needs(prefix === 2 || prefix === 3, "Compressed point prefix is not 02 or 03.");
    const xBytes = compressedPoint.slice(1);
    const keyLength = xBytes.byteLength;
    const x = bigIntFromBytes(xBytes);
    const alpha = (((x * x * x) % p) + ((a * x) % p) + b) % p;
    const beta = modPow(alpha, rootExponent, p);
    // Not a point check: like the SDK, an x with no point still yields bytes, which the signature
    // verification then refuses.
    const y = (beta & 1n) === BigInt(prefix - 2) ? beta : p - beta;
    const point = new Uint8Array(1 + 2 * keyLength);
    point[0] = 4;
    point.set(bytesFromBigInt(x, keyLength), 1);
    point.set(bytesFromBigInt(y, keyLength), 1 + keyLength);
    return point;
  };
}

const prime256v1 = eccDecodeCompressedPoint(
  0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
  0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
);
const secp384r1 = eccDecodeCompressedPoint(
  0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
  0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
  0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
);

/** Compressed point (02/03 ‖ x) → uncompressed point (04 ‖ x ‖ y), by curve name (Node and WebCrypto). */
export const decodeNamedCurves = Object.freeze({
  // NodeJS/OpenSSL names
  prime256v1,
  secp384r1,
  // WebCrypto/Browser names
  "P-256": prime256v1,
  "P-384": secp384r1,
});
