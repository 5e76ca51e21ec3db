/** The SDK's `needs`: a precondition that throws a plain `Error` with the given message. */
export function needs(condition: unknown, errorMessage: string): asserts condition {
  if (!condition) throw new Error(errorMessage);
}

/** Unsigned big-endian bytes → BigInt (`new BN(bytes)` in the SDK). */
export function bigIntFromBytes(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** A BigInt as exactly `length` unsigned big-endian bytes (`bn.toArray("be", length)`). */
export function bytesFromBigInt(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  // bn.js asserts the same: the value must fit the requested length.
  needs(rest === 0n, "byte array longer than desired length");
  return out;
}
