/**
 * For the tests of the direct 0x0478 writers and reader only: the Encryption SDK's own client and a raw AES
 * keyring, which give the writers real SDK encryption materials and decrypt what they write.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import {
  buildClient,
  CommitmentPolicy,
  type NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  type NodeEncryptionMaterial,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import type { HeaderInfo } from "@aws-crypto/serialize";
import { CiphertextError } from "../errors.ts";
import { type CommittedMessageKey, committedSuiteId, deriveCommittedKeys } from "./committed-message.ts";
import { deserializer, suiteFor } from "./format.ts";

/** A keyring with a fresh random wrapping key, for one test file. */
export const oracleKeyring = new RawAesKeyringNode({
  keyName: "test-key",
  keyNamespace: "test",
  unencryptedMasterKey: randomBytes(32),
  wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
});

/** The SDK client that must decrypt every message the writers write. */
export const oracleClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** The materials manager over `oracleKeyring`: encryption materials, and data keys back for a reader. */
export const oracleMaterials = new NodeDefaultCryptographicMaterialsManager(oracleKeyring);

/** An SDK encryption material of suite 0x0478 for `context`, its data key wrapped by the keyring. */
export function committedMaterial(context: Record<string, string>): Promise<NodeEncryptionMaterial> {
  return oracleMaterials.getEncryptionMaterials({
    suite: suiteFor(committedSuiteId),
    encryptionContext: context,
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    plaintextLength: 0,
  });
}

/** A fresh 0x0478 data key for `context`: its bytes, and a key the writers take (its own copy). */
export async function committedKey(
  context: Record<string, string>,
): Promise<{ dataKey: Buffer; key: CommittedMessageKey }> {
  const source = await committedMaterial(context);
  const dataKey = Buffer.from((source.getUnencryptedDataKey() as { export(): Buffer }).export());
  return { dataKey, key: { dataKey: Buffer.from(dataKey), encryptedDataKeys: source.encryptedDataKeys } };
}

/**
 * `message` with another key commitment in its header and the header tag recomputed over it with the
 * right key: what a writer holding the data key can do. Only the commitment check refuses it.
 */
export function forgeCommitment(message: Uint8Array, dataKey: Buffer): Buffer {
  const info = deserializer.deserializeMessageHeader(message, { maxEncryptedDataKeys: 1 });
  if (!info) throw new Error("not a message header");
  const forged = Buffer.from(message);
  randomBytes(32).copy(forged, info.headerLength - 32);
  const { encryptionKey } = deriveCommittedKeys(Buffer.from(dataKey), info.messageHeader.messageId);
  const tagger = createCipheriv("aes-256-gcm", encryptionKey, Buffer.alloc(12));
  tagger.setAAD(forged.subarray(0, info.headerLength));
  tagger.final();
  tagger.getAuthTag().copy(forged, info.headerLength);
  return forged;
}

/**
 * The data key of a parsed 0x0478 header as the envelope gets it, from the oracle's materials manager;
 * any failure to unwrap it is `wrongKey`, as the envelope types it.
 */
export async function oracleDataKey(
  info: HeaderInfo,
): Promise<ReturnType<NodeDecryptionMaterial["getUnencryptedDataKey"]>> {
  try {
    const material = await oracleMaterials.decryptMaterials({
      suite: suiteFor(committedSuiteId),
      encryptionContext: info.messageHeader.encryptionContext,
      encryptedDataKeys: info.messageHeader.encryptedDataKeys,
    });
    return material.getUnencryptedDataKey(); // throws when no data key was unwrapped
  } catch {
    throw new CiphertextError("wrongKey");
  }
}
