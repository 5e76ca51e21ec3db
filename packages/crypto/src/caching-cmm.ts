/**
 * A cryptographic materials manager (CMM) that caches data keys by KMS context — not by the full
 * message context — with hard bounds and single-flight loading.
 *
 * The backing default CMM asks the keyring (KMS) for a data key bound to the KMS context
 * `{app, stage, purpose}`. Each message then gets its own copy of that material carrying the full
 * message context `{app, stage, ownerId, recordId, purpose}`, which the Encryption SDK writes into the
 * header and authenticates with a key derived from the data key and the message's random id. So one
 * data key serves many records while each ciphertext stays bound to its own record. On decrypt, KMS is
 * asked with the KMS context taken from the header; the header tag then checks the rest.
 */
import type {
  EncryptedDataKey,
  EncryptionContext,
  NodeAlgorithmSuite,
  NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  NodeEncryptionMaterial,
  NodeMaterialsManager,
} from "@aws-crypto/material-management-node";
import { kmsContextOf, signerKeyName } from "./context.ts";
import type { DataKeyCache } from "./data-key-cache.ts";
import { CiphertextError, CryptoError, KmsUnavailableError } from "./errors.ts";
import type { KmsDecryptFailures } from "./kms-client.ts";
import { decryptionMaterialFor, encryptionMaterialFor, zeroMaterial } from "./materials.ts";

type EncryptionRequest = Parameters<NodeMaterialsManager["getEncryptionMaterials"]>[0];
type DecryptionRequest = Parameters<NodeMaterialsManager["decryptMaterials"]>[0];

/** The caches a CMM uses; either may be absent (no caching). */
export interface MaterialCaches {
  readonly encrypt?: DataKeyCache<NodeEncryptionMaterial>;
  readonly decrypt?: DataKeyCache<NodeDecryptionMaterial>;
}

function canonical(context: EncryptionContext): string {
  return JSON.stringify(Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function encryptCacheKey(suite: NodeAlgorithmSuite, kmsContext: EncryptionContext): string {
  return `${suite.id}|${canonical(kmsContext)}`;
}

/**
 * Like the SDK's decrypt cache id: suite, KMS context and every encrypted data key. Kept as a plain
 * string (the encrypted data key is not secret) rather than hashed: it is built on every read.
 */
function decryptCacheKey(
  suite: NodeAlgorithmSuite,
  kmsContext: EncryptionContext,
  edks: readonly EncryptedDataKey[],
): string {
  const keys = edks
    .map((edk) =>
      JSON.stringify([
        edk.providerId,
        edk.providerInfo,
        Buffer.from(edk.encryptedDataKey).toString("base64"),
      ]),
    )
    .sort();
  return JSON.stringify([suite.id, canonical(kmsContext), keys]);
}

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : "Error";
}

/**
 * Runs `take` on a material that is used once and then zeroed (no cache). `take` copies it, as with a
 * cached one, so the SDK always gets a material of its own.
 */
async function once<M extends NodeEncryptionMaterial | NodeDecryptionMaterial, R>(
  load: () => Promise<M>,
  take: (material: M) => R,
): Promise<R> {
  const material = await load();
  try {
    return take(material);
  } finally {
    zeroMaterial(material);
  }
}

/** See the module comment. Shared by every call of one envelope instance. */
export class PartitionedCachingMaterialsManager implements NodeMaterialsManager {
  readonly #backing: NodeDefaultCryptographicMaterialsManager;

  constructor(
    backing: NodeDefaultCryptographicMaterialsManager,
    private readonly caches: MaterialCaches,
    private readonly failures: KmsDecryptFailures,
  ) {
    this.#backing = backing;
  }

  async getEncryptionMaterials(request: EncryptionRequest): Promise<NodeEncryptionMaterial> {
    const { suite, encryptionContext, plaintextLength, commitmentPolicy } = request;
    if (!suite) throw new CiphertextError("unsupportedSuite");
    const kmsContext = kmsContextOf(encryptionContext);
    const load = async () => {
      try {
        return await this.#backing.getEncryptionMaterials({
          suite,
          encryptionContext: kmsContext,
          commitmentPolicy,
        });
      } catch (err) {
        throw err instanceof CryptoError ? err : new KmsUnavailableError("GenerateDataKey", errorName(err));
      }
    };
    // The message's own copy, under the full message context (plus the signer key of a signed suite,
    // which the backing CMM put in the KMS context and the header must carry).
    const take = (source: NodeEncryptionMaterial) => {
      const signer = source.encryptionContext[signerKeyName];
      return encryptionMaterialFor(
        source,
        signer === undefined ? { ...encryptionContext } : { ...encryptionContext, [signerKeyName]: signer },
      );
    };
    // Streams of unknown length cannot be accounted against maxBytes: they get a data key of their own.
    if (!this.caches.encrypt || typeof plaintextLength !== "number") return once(load, take);
    return this.caches.encrypt.use(encryptCacheKey(suite, kmsContext), plaintextLength, load, take);
  }

  async decryptMaterials(request: DecryptionRequest): Promise<NodeDecryptionMaterial> {
    const { suite, encryptionContext, encryptedDataKeys } = request;
    const kmsContext = kmsContextOf(encryptionContext);
    const load = async () => {
      try {
        return await this.#backing.decryptMaterials({
          suite,
          encryptionContext: kmsContext,
          encryptedDataKeys,
        });
      } catch (err) {
        for (const edk of encryptedDataKeys) {
          const failure = this.failures.take(edk.encryptedDataKey);
          if (failure) throw failure;
        }
        // No KMS error recorded: no data key was for our key, or the keyring refused it.
        throw err instanceof CryptoError ? err : new CiphertextError("wrongKey");
      }
    };
    const take = (source: NodeDecryptionMaterial) => decryptionMaterialFor(source, { ...encryptionContext });
    if (!this.caches.decrypt) return once(load, take);
    return this.caches.decrypt.use(decryptCacheKey(suite, kmsContext, encryptedDataKeys), 0, load, take);
  }
}
