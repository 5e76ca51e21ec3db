/**
 * The Encryption SDK's own client and managers, re-exported for interop tests and comparison
 * benchmarks outside this package (which do not depend on the SDK themselves).
 */
export {
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  NodeCachingMaterialsManager,
  type NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  type NodeEncryptionMaterial,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
