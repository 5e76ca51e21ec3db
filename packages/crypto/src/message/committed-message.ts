/**
 * Writes one message of the unsigned committing suite 0x0478 (AES-256-GCM, HKDF-SHA512, key
 * commitment) straight from a cached data key — the envelope's default suite, one message per record.
 *
 * `encrypt-message.ts` writes the same bytes from an SDK encryption material, which the materials
 * manager must first copy out of the cache per message (a new material object with its keyring trace,
 * the data key set, checked and wrapped again), and whose SDK helpers then derive the key with a
 * JavaScript HKDF and a fresh `KeyObject`. That costs ~55 µs per record, and about twice that right
 * after the seven RSA decrypts of a create, whose caches it evicts; this path costs about half. It
 * reads the cached material without handing it to the SDK (nothing zeroes it), and zeroes its own
 * copies of the data key and derived keys.
 *
 * The steps are the SDK's (`getEncryptHelper`, `nodeKdf`, `encryptMessage`): message id of 32 random
 * bytes; HKDF-SHA512 extract with the message id as salt, expand to the 32-byte commitment with
 * "COMMITKEY" and to the 32-byte data encryption key with suite id ‖ "DERIVEKEY"; header v2 with the
 * commitment as suite data; header tag (AES-GCM over the header, IV of zeros); frames of
 * `frameLength` with IVs counting from 1 and the final frame with the rest. `committed-message.test.ts`
 * compares its output byte for byte with `encryptMessage` for the same message id, and the SDK's own
 * client decrypts it.
 */
import { createCipheriv, createHmac } from "node:crypto";
import type { EncryptedDataKey, EncryptionContext } from "@aws-crypto/material-management-node";
import type { MessageHeader } from "@aws-crypto/serialize";
import { type GetFrameCipher, sealFrames } from "./frame.ts";
import { serializeHeader } from "./header.ts";
import { newMessageId } from "./message-id.ts";

/** ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY. */
export const committedSuiteId = 0x0478;

const messageIdBytes = 32;
const keyBytes = 32;
const ivBytes = 12;
const keyLabel = Buffer.concat([
  Buffer.of(committedSuiteId >> 8, committedSuiteId & 0xff),
  Buffer.from("DERIVEKEY"),
]);
const commitLabel = Buffer.from("COMMITKEY");
const firstBlock = Buffer.of(1);
const headerIv = Buffer.alloc(ivBytes);

/** What a message needs from the cached encryption material. */
export interface CommittedMessageKey {
  /** The data key: the SDK's `KeyObject` (exported here, and that copy zeroed), or its bytes. */
  readonly dataKey: { export(): Buffer } | Uint8Array;
  readonly encryptedDataKeys: readonly EncryptedDataKey[];
}

/** The start of a message: header and header tag, and the key its frames are encrypted with. */
export interface CommittedMessageStart {
  readonly messageId: Buffer;
  /** Header ‖ header auth tag. */
  readonly head: Buffer;
  /** The derived data encryption key (32 bytes). The caller zeroes it when the message is done. */
  readonly encryptionKey: Buffer;
}

/** The key commitment and the data encryption key of one message (32 bytes each). */
export interface CommittedKeys {
  readonly commitment: Buffer;
  /** The caller zeroes it when the message is done. */
  readonly encryptionKey: Buffer;
}

/**
 * The SDK's derivation for suite 0x0478 (`nodeKdf`): HKDF-SHA512 extract with the message id as salt,
 * then one expand step each for the commitment ("COMMITKEY") and the encryption key (suite id ‖
 * "DERIVEKEY"). Shared by the writers and the reader; an exported copy of a `KeyObject` data key and
 * the intermediate keys are zeroed before this returns.
 */
export function deriveCommittedKeys(
  dataKeyIn: { export(): Buffer } | Uint8Array,
  messageId: Uint8Array,
): CommittedKeys {
  const exported = !(dataKeyIn instanceof Uint8Array);
  const dataKey = dataKeyIn instanceof Uint8Array ? dataKeyIn : dataKeyIn.export();
  let prk: Buffer | undefined;
  let derived: Buffer | undefined;
  try {
    if (dataKey.byteLength !== keyBytes) throw new Error("data key length does not match the suite");
    prk = createHmac("sha512", messageId).update(dataKey).digest();
    const commitment = Buffer.from(
      createHmac("sha512", prk).update(commitLabel).update(firstBlock).digest().subarray(0, 32),
    );
    derived = createHmac("sha512", prk).update(keyLabel).update(firstBlock).digest();
    return { commitment, encryptionKey: Buffer.from(derived.subarray(0, keyBytes)) };
  } finally {
    if (exported) dataKey.fill(0);
    prk?.fill(0);
    derived?.fill(0);
  }
}

/**
 * Derives the commitment and the encryption key from the data key and writes the header and its tag.
 * The exported copy of the data key and the intermediate keys are zeroed before this returns.
 */
export function startCommittedMessage(
  key: CommittedMessageKey,
  encryptionContext: EncryptionContext,
  frameLength: number,
  messageId: Uint8Array = newMessageId(messageIdBytes),
): CommittedMessageStart {
  if (messageId.byteLength !== messageIdBytes) throw new Error("message id must be 32 bytes");
  if (!Number.isInteger(frameLength) || frameLength < 1 || frameLength > 0xffffffff) {
    throw new Error("frame length out of bounds");
  }
  const { commitment, encryptionKey } = deriveCommittedKeys(key.dataKey, messageId);
  try {
    const header = serializeHeader({
      version: 2,
      suiteId: committedSuiteId,
      messageId,
      encryptionContext,
      encryptedDataKeys: key.encryptedDataKeys,
      contentType: 2,
      frameLength,
      suiteData: commitment,
    } as MessageHeader);
    const headerCipher = createCipheriv("aes-256-gcm", encryptionKey, headerIv);
    headerCipher.setAAD(header);
    headerCipher.final();
    const head = Buffer.concat([header, headerCipher.getAuthTag()]);
    return { messageId: Buffer.from(messageId), head, encryptionKey };
  } catch (err) {
    encryptionKey.fill(0);
    throw err;
  }
}

/** An AES-256-GCM cipher of `encryptionKey` for one frame IV. */
export function committedFrameCipher(encryptionKey: Buffer): GetFrameCipher {
  return (iv) => createCipheriv("aes-256-gcm", encryptionKey, iv);
}

/**
 * Encrypts `plaintext` as one 0x0478 message bound to `encryptionContext`. `messageId` is for the
 * tests only (the comparison with `encryptMessage`); in use it is always 32 fresh random bytes.
 */
export function encryptCommittedMessage(
  key: CommittedMessageKey,
  encryptionContext: EncryptionContext,
  plaintext: Uint8Array,
  frameLength: number,
  messageId?: Uint8Array,
): Buffer {
  const start = startCommittedMessage(key, encryptionContext, frameLength, messageId);
  try {
    const source = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
    const parts: Buffer[] = [start.head];
    sealFrames(committedFrameCipher(start.encryptionKey), start.messageId, source, frameLength, parts);
    return Buffer.concat(parts);
  } finally {
    start.encryptionKey.fill(0);
  }
}
