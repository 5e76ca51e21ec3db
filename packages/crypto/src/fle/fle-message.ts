/**
 * Opens one CloudFront FLE message — suite 0x0178 only: AES-256-GCM, HKDF-SHA256, no key commitment,
 * no signature, one data key wrapped with RSA-OAEP-SHA256 — with the RSA private key directly.
 *
 * Why not the SDK's materials manager and `RawRsaKeyringNode` here: for this one fixed suite they add
 * ~25–45 µs per field on top of the ~260 µs RSA decrypt (material and keyring-trace objects, a JS HKDF,
 * KeyObject wrapping, the garbage of all that), and a create carries seven fields. The steps are the
 * SDK's, in its order, with its parts where they do the checking: the header parse (CloudFront's exact
 * shape directly, `fle-header.ts`, anything else by the SDK's parser) and the SDK's policy checks,
 * the keyring's rule for which data key to unwrap (provider id and key name
 * equal), the suite's key length, the SDK's key derivation for non-committing suites
 * (HKDF-SHA256, no salt, info = suite id ‖ message id) with `node:crypto` HMACs, then the same header
 * tag, frame and trailing-byte checks as every other message (`decryptBody`). Tests run it against
 * messages written by the SDK as CloudFront writes them, and refuse every bit flip and truncation.
 */
import { constants, createDecipheriv, createHmac, privateDecrypt } from "node:crypto";
import { CiphertextError, FleDecryptError } from "../errors.ts";
import {
  checkPolicies,
  type DecryptMessageOptions,
  decryptBody,
  parseHeader,
} from "../message/decrypt-message.ts";
import { fleSuite } from "../suites.ts";
import { parseFleHeader } from "./fle-header.ts";
import type { FleUnwrapKey } from "./keyrings.ts";

/** Suite 0x0178: 256-bit data key, 96-bit IVs, 128-bit tags. */
const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
/** HKDF without a salt uses a string of hash-length zeros (RFC 5869 §2.2). */
const zeroSalt = Buffer.alloc(32);
const firstBlock = Buffer.of(1);

/**
 * HKDF-SHA256 (RFC 5869) of a 32-byte key with no salt and info = suite id (uint16 BE) ‖ message id:
 * the SDK's derivation for non-committing suites. One output block is all 32 bytes need, so it is
 * extract then a single expand step — half the time of `hkdfSync`, which builds key objects per call
 * (checked equal to `hkdfSync` in the tests).
 */
export function deriveFleKey(dataKey: Uint8Array, suiteId: number, messageId: Uint8Array): Buffer {
  const prk = createHmac("sha256", zeroSalt).update(dataKey).digest();
  const suite = Buffer.allocUnsafe(2);
  suite.writeUInt16BE(suiteId, 0);
  try {
    return createHmac("sha256", prk).update(suite).update(messageId).update(firstBlock).digest();
  } finally {
    prk.fill(0);
  }
}

function decipherWith(key: Buffer, iv: Uint8Array) {
  if (iv.byteLength !== ivBytes) throw new CiphertextError("malformed");
  return createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagBytes });
}

/**
 * Decrypts one FLE message. Throws `FleDecryptError("unsupportedSuite")` for any other suite (before
 * any RSA work), `CiphertextError` otherwise; the data key and derived key are zeroed after use.
 */
export function openFleMessage(
  message: Uint8Array,
  key: FleUnwrapKey,
  options: DecryptMessageOptions,
): Buffer {
  // CloudFront's exact shape is read directly; anything else goes through the SDK's parser.
  const fast = options.maxEncryptedDataKeys >= 1 ? parseFleHeader(message) : undefined;
  if (fast) checkPolicies(options, fleSuite, fast.info.messageHeader.messageId);
  const info = fast?.info ?? parseHeader(message, options);
  if (info.algorithmSuite.id !== fleSuite) throw new FleDecryptError("unsupportedSuite");
  const { messageHeader } = info;
  // The raw RSA keyring's rule: unwrap only a data key wrapped for this provider id and key name.
  const edks = messageHeader.encryptedDataKeys;
  const edk = fast?.dataKey ?? (edks.length === 1 ? edks[0] : undefined);
  if (!edk || edk.providerId !== key.providerId || edk.providerInfo !== key.keyName) {
    throw new CiphertextError("wrongKey");
  }
  let dataKey: Buffer;
  try {
    dataKey = privateDecrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      edk.encryptedDataKey,
    );
  } catch {
    throw new CiphertextError("wrongKey");
  }
  let derivedKey: Buffer | undefined;
  try {
    if (dataKey.byteLength !== keyBytes) throw new CiphertextError("wrongKey");
    derivedKey = deriveFleKey(dataKey, fleSuite, messageHeader.messageId);
    return decryptBody(message, info, decipherWith.bind(null, derivedKey), undefined, options).plaintext;
  } finally {
    dataKey.fill(0);
    derivedKey?.fill(0);
  }
}
