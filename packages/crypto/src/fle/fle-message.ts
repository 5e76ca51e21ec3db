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
import type { HeaderInfo } from "@aws-crypto/serialize";
import { CiphertextError, FleDecryptError } from "../errors.ts";
import {
  checkPolicies,
  type DecryptMessageOptions,
  decryptBody,
  parseHeader,
} from "../message/decrypt-message.ts";
import { frameAad, view } from "../message/format.ts";
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
const finalFrameLabel = "AWSKMSEncryptionClient Final Frame";

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

/** Final-frame marker, sequence number, IV, content length. */
const finalFrameHeaderBytes = 4 + 4 + ivBytes + 4;

/**
 * The body as CloudFront writes it for a form value: one final frame, sequence number 1, ending the
 * message. Read directly, it costs two AES-GCM operations and one AAD buffer; `decryptBody` (the general
 * reader, with the SDK's frame parser) costs ~40% more per value, seven values per create. Returns
 * `undefined` for any other shape, which then goes through `decryptBody`; for this shape it makes the
 * same checks in the same order — header tag, content length against the frame length and the body
 * limit, frame tag — and throws the same errors (tested against `decryptBody` on every mutation).
 */
function openSingleFrame(
  sealed: SealedFleMessage,
  derivedKey: Buffer,
  options: DecryptMessageOptions,
): Buffer | undefined {
  const { message, info } = sealed;
  const frameAt = info.headerLength + info.headerAuth.headerAuthLength;
  const contentAt = frameAt + finalFrameHeaderBytes;
  if (contentAt + tagBytes > message.byteLength) return undefined;
  const bytes = view(message);
  if (bytes.readUInt32BE(frameAt) !== 0xffffffff || bytes.readUInt32BE(frameAt + 4) !== 1) return undefined;
  const contentLength = bytes.readUInt32BE(contentAt - 4);
  if (contentAt + contentLength + tagBytes !== message.byteLength) return undefined;
  try {
    const headerCheck = decipherWith(derivedKey, info.headerAuth.headerIv);
    headerCheck.setAAD(view(info.rawHeader));
    headerCheck.setAuthTag(view(info.headerAuth.headerAuthTag));
    headerCheck.final();
  } catch {
    throw new CiphertextError("tampered");
  }
  if (contentLength > info.messageHeader.frameLength) throw new CiphertextError("malformed");
  if (options.maxBodySize !== undefined && contentLength > options.maxBodySize) {
    throw new CiphertextError("malformed");
  }
  try {
    const decipher = decipherWith(derivedKey, bytes.subarray(frameAt + 8, frameAt + 8 + ivBytes));
    decipher.setAAD(frameAad(info.messageHeader.messageId, finalFrameLabel, 1, contentLength));
    decipher.setAuthTag(bytes.subarray(contentAt + contentLength, message.byteLength));
    const plaintext = decipher.update(bytes.subarray(contentAt, contentAt + contentLength));
    decipher.final(); // GCM returns no bytes here: it checks the tag.
    return plaintext;
  } catch {
    throw new CiphertextError("tampered");
  }
}

/** An FLE message whose header has been read and whose data key is addressed to the key at hand. */
export interface SealedFleMessage {
  readonly message: Uint8Array;
  readonly info: HeaderInfo;
  readonly wrappedKey: Uint8Array;
}

/**
 * Reads and checks an FLE message's header — suite, policies, and that its one data key is wrapped for
 * this provider id and key name — without any private-key work. Throws
 * `FleDecryptError("unsupportedSuite")` for any other suite, `CiphertextError` otherwise.
 */
export function readFleMessage(
  message: Uint8Array,
  key: FleUnwrapKey,
  options: DecryptMessageOptions,
): SealedFleMessage {
  // CloudFront's exact shape is read directly; anything else goes through the SDK's parser.
  const fast = options.maxEncryptedDataKeys >= 1 ? parseFleHeader(message) : undefined;
  if (fast) checkPolicies(options, fleSuite, fast.info.messageHeader.messageId);
  const info = fast?.info ?? parseHeader(message, options);
  if (info.algorithmSuite.id !== fleSuite) throw new FleDecryptError("unsupportedSuite");
  // The raw RSA keyring's rule: unwrap only a data key wrapped for this provider id and key name.
  const edks = info.messageHeader.encryptedDataKeys;
  const edk = fast?.dataKey ?? (edks.length === 1 ? edks[0] : undefined);
  if (!edk || edk.providerId !== key.providerId || edk.providerInfo !== key.keyName) {
    throw new CiphertextError("wrongKey");
  }
  return { message, info, wrappedKey: edk.encryptedDataKey };
}

/** The data key of a read message (RSA-OAEP-SHA256). The caller zeroes it. Throws `CiphertextError`. */
export function unwrapFleDataKey(sealed: SealedFleMessage, key: FleUnwrapKey): Buffer {
  let dataKey: Buffer;
  try {
    dataKey = privateDecrypt(
      { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      sealed.wrappedKey,
    );
  } catch {
    throw new CiphertextError("wrongKey");
  }
  if (dataKey.byteLength !== keyBytes) {
    dataKey.fill(0);
    throw new CiphertextError("wrongKey");
  }
  return dataKey;
}

/**
 * Derives the message key from an unwrapped data key and decrypts the body (header tag, frames,
 * trailing bytes). The derived key is zeroed after use; the data key stays the caller's to zero.
 */
export function openFleBody(
  sealed: SealedFleMessage,
  dataKey: Buffer,
  options: DecryptMessageOptions,
): Buffer {
  const derivedKey = deriveFleKey(dataKey, fleSuite, sealed.info.messageHeader.messageId);
  try {
    return (
      openSingleFrame(sealed, derivedKey, options) ??
      decryptBody(sealed.message, sealed.info, decipherWith.bind(null, derivedKey), undefined, options)
        .plaintext
    );
  } finally {
    derivedKey.fill(0);
  }
}
