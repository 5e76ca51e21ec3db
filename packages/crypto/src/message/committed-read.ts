/**
 * Reads one message of the default suite 0x0478 held in memory straight from a cached data key — the
 * counterpart of `encryptCommittedMessage`, for record reads.
 *
 * `decrypt-message.ts` reads the same messages from an SDK decryption material, which the materials
 * manager must first copy out of the cache per message, and whose SDK helpers then derive the keys with
 * a JavaScript HKDF and a fresh `KeyObject`. This path reads the cached material without handing it to
 * the SDK (nothing zeroes it) and makes the same checks in the same order: the header was parsed and
 * its policies checked by the caller (`parseHeader`); then the key commitment — the header's suite
 * data must equal the commitment derived from the data key, or the message is `malformed`, as the
 * SDK's `nodeKdf` refuses it — then the header tag, the frames and the trailing bytes (`decryptBody`).
 * `committed-read.test.ts` compares it with `decryptMessage` on every mutation and truncation.
 */
import { createDecipheriv, timingSafeEqual } from "node:crypto";
import type { HeaderInfo } from "@aws-crypto/serialize";
import { CiphertextError } from "../errors.ts";
import { committedSuiteId, deriveCommittedKeys } from "./committed-message.ts";
import { type DecryptMessageOptions, decryptBody } from "./decrypt-message.ts";

const commitmentBytes = 32;

/**
 * Decrypts `ciphertext`, whose header `info` the caller parsed and checked, with the message's data key
 * (the cached material's `KeyObject`, exported here and that copy zeroed, or its bytes). Throws
 * `CiphertextError`; the derived key is zeroed after use.
 */
export function openCommittedMessage(
  ciphertext: Uint8Array,
  info: HeaderInfo,
  dataKey: { export(): Buffer } | Uint8Array,
  options: DecryptMessageOptions,
): Buffer {
  if (info.algorithmSuite.id !== committedSuiteId) throw new CiphertextError("unsupportedSuite");
  let keys: ReturnType<typeof deriveCommittedKeys>;
  try {
    keys = deriveCommittedKeys(dataKey, info.messageHeader.messageId);
  } catch {
    throw new CiphertextError("wrongKey");
  }
  const { commitment, encryptionKey } = keys;
  try {
    if (!commitmentMatches(info, commitment)) throw new CiphertextError("malformed");
    const decipher = (iv: Uint8Array) =>
      createDecipheriv("aes-256-gcm", encryptionKey, iv, { authTagLength: 16 });
    return decryptBody(ciphertext, info, decipher, undefined, options).plaintext;
  } finally {
    encryptionKey.fill(0);
  }
}

/** Whether the header's suite data is the key commitment derived from the data key (constant time). */
export function commitmentMatches(info: HeaderInfo, commitment: Buffer): boolean {
  const stated = (info.messageHeader as { suiteData?: Uint8Array }).suiteData;
  return stated !== undefined && stated.byteLength === commitmentBytes && timingSafeEqual(commitment, stated);
}
