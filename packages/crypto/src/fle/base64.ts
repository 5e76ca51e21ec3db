/**
 * Tolerant decoding of base64 values that crossed a url-encoded form: a `+` turned into a space by a
 * naive decoder, the url-safe alphabet, stripped padding and line breaks are all repaired. A space can
 * never be part of base64, so mapping it back to `+` cannot change a valid value.
 */

const base64Re = /^[A-Za-z0-9+/]*$/;
const canonicalRe = /^[A-Za-z0-9+/]+={0,2}$/;

/** Returns the bytes of `value`, or `undefined` when it is not base64 even after repair. */
export function decodeTolerantBase64(value: string): Uint8Array | undefined {
  // Fast path: intact standard base64, the common case.
  if (value.length % 4 === 0 && canonicalRe.test(value)) return Buffer.from(value, "base64");
  const repaired = value
    .replace(/[\r\n\t]/g, "")
    .replace(/ /g, "+")
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .replace(/={0,2}$/, "");
  if (repaired.length === 0 || !base64Re.test(repaired) || repaired.length % 4 === 1) return undefined;
  const padded = repaired + "=".repeat((4 - (repaired.length % 4)) % 4);
  return Buffer.from(padded, "base64");
}

/** Standard base64 with padding, as CloudFront writes FLE values. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * True when `bytes` start like an Encryption SDK message: format v1 (`01 80`, as CloudFront writes) or
 * v2 (`02` + a committing suite id). Used to tell encrypted values from clear ones.
 */
export function looksLikeEsdkMessage(bytes: Uint8Array): boolean {
  if (bytes.length < 64) return false;
  if (bytes[0] === 0x01 && bytes[1] === 0x80) return true;
  return bytes[0] === 0x02 && (bytes[1] === 0x04 || bytes[1] === 0x05) && bytes[2] === 0x78;
}
