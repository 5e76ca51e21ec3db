/**
 * For the tests of the direct 0x0478 writers and reader only: the Encryption SDK's own client and a raw AES
 * keyring, which give the writers real SDK encryption materials and decrypt what they write.
 */
import { randomBytes } from "node:crypto";
import {
  buildClient,
  CommitmentPolicy,
  NodeDefaultCryptographicMaterialsManager,
  type NodeEncryptionMaterial,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
} from "@aws-crypto/client-node";
import { committedSuiteId } from "./committed-message.ts";
import { suiteFor } from "./format.ts";

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
