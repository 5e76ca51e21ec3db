/**
 * Fresh message ids for the messages this package writes. An id is public — it sits in every header —
 * but must never repeat: the SDK draws one from the CSPRNG per message (16 bytes in format v1, 32 in
 * v2, where it is also the HKDF salt). Drawn here from the same CSPRNG through a pool refilled 4 KiB at
 * a time: a `randomBytes` call per message cost ~3.6 µs of a record's ~33 µs encrypt (a tenth), a
 * share of a pool refill ~0.1 µs. Each id is a copy, so no two messages share memory, and bytes handed
 * out once are never handed out again.
 */
import { randomFillSync } from "node:crypto";

const poolBytes = 4096;
const pool = Buffer.allocUnsafeSlow(poolBytes);
let next = poolBytes;

/** `length` (1–256) fresh random bytes for one message id. */
export function newMessageId(length: number): Buffer {
  if (!Number.isInteger(length) || length < 1 || length > 256) throw new RangeError("message id length");
  if (next + length > poolBytes) {
    randomFillSync(pool);
    next = 0;
  }
  const id = Buffer.from(pool.subarray(next, next + length));
  // What was handed out is overwritten in the pool, not only skipped.
  pool.fill(0, next, next + length);
  next += length;
  return id;
}
