/**
 * Copies Encryption SDK materials under another encryption context, the way the SDK's own caching
 * CMM clones a cached material (`cloneMaterial`: same data key, keyring trace, encrypted data keys and
 * signing key) but with the message's context. The SDK zeroes the data key of every material it has
 * used, so a cached material is never handed out itself — only such copies.
 */
import {
  type EncryptionContext,
  NodeDecryptionMaterial,
  NodeEncryptionMaterial,
  unwrapDataKey,
} from "@aws-crypto/material-management-node";
import { EncryptError } from "./errors.ts";

/**
 * The data key for a copy of `material`. In Node the SDK holds it as a `KeyObject`, which is
 * immutable, so the copy shares it; zeroing a material that holds a `KeyObject` only drops its
 * reference (the SDK's rule), so the cached source is unaffected when a copy is disposed. The SDK
 * still exports the key's bytes when it checks and uses a material: those transient copies are left to
 * the garbage collector, as with the SDK's own caching CMM. Bytes (no `KeyObject` support) are copied.
 */
function copyDataKey(material: NodeEncryptionMaterial | NodeDecryptionMaterial) {
  const key = material.getUnencryptedDataKey();
  return key instanceof Uint8Array ? new Uint8Array(unwrapDataKey(key)) : key;
}

/**
 * Encryption material carrying `source`'s data key, encrypted data keys and signing key, but `context`
 * as the context the message header will carry (and authenticate).
 */
export function encryptionMaterialFor(
  source: NodeEncryptionMaterial,
  context: EncryptionContext,
): NodeEncryptionMaterial {
  const [generated, ...wrapped] = source.keyringTrace;
  if (!generated || wrapped.length !== source.encryptedDataKeys.length) {
    throw new EncryptError("encryption material has an unexpected keyring trace");
  }
  const copy = new NodeEncryptionMaterial(source.suite, context);
  copy.setUnencryptedDataKey(copyDataKey(source), generated);
  source.encryptedDataKeys.forEach((edk, i) => {
    copy.addEncryptedDataKey(edk, wrapped[i]!.flags);
  });
  if (source.signatureKey) copy.setSignatureKey(source.signatureKey);
  return copy;
}

/** Decryption material carrying `source`'s data key (and verification key) under `context`. */
export function decryptionMaterialFor(
  source: NodeDecryptionMaterial,
  context: EncryptionContext,
): NodeDecryptionMaterial {
  const [trace] = source.keyringTrace;
  if (!trace) throw new EncryptError("decryption material has no keyring trace");
  const copy = new NodeDecryptionMaterial(source.suite, context);
  copy.setUnencryptedDataKey(copyDataKey(source), trace);
  if (source.verificationKey) copy.setVerificationKey(source.verificationKey);
  return copy;
}

/** Zeroes the data key a material holds (when it leaves a cache). */
export function zeroMaterial(material: NodeEncryptionMaterial | NodeDecryptionMaterial): void {
  if (material.hasUnencryptedDataKey) material.zeroUnencryptedDataKey();
}
