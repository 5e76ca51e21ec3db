// Over 300 lines: the envelope, its materials manager and caches share one client setup.
/**
 * Envelope encryption of records and objects with the AWS Encryption SDK client and a KMS keyring:
 * every ciphertext is bound to `{app, stage, ownerId, recordId, purpose}`, data keys are cached with
 * hard bounds by `PartitionedCachingMaterialsManager`, and a cold burst shares one KMS call. In-memory
 * messages here; `envelope-streams.ts` adds streams over the same client, materials manager and caches.
 */
import {
  CommitmentPolicy,
  type KeyringNode,
  type NodeDecryptionMaterial,
  NodeDefaultCryptographicMaterialsManager,
  type NodeEncryptionMaterial,
  type NodeMaterialsManager,
} from "@aws-crypto/material-management-node";
import type { SensitiveFields } from "@veil/core";
import { PartitionedCachingMaterialsManager } from "./caching-cmm.ts";
import {
  assertContextMatches,
  type DeploymentContext,
  type MessageContext,
  messageContext,
  type RecordContext,
} from "./context.ts";
import { DataKeyCache, type DataKeyCacheStats } from "./data-key-cache.ts";
import { CiphertextError, CryptoConfigError, CryptoError, EncryptError } from "./errors.ts";
import { buildClient, type EsdkClient } from "./esdk-client.ts";
import { decodeSensitiveFields, encodeSensitiveFields } from "./fields-codec.ts";
import {
  assertKeyArn,
  instrumentedClientProvider,
  type KmsCallCounts,
  KmsDecryptFailures,
  KmsKeyring,
  type KmsOptions,
} from "./kms-client.ts";
import { zeroMaterial } from "./materials.ts";
import { type EnvelopeSuite, envelopeDecryptSuites, envelopeSuites } from "./suites.ts";

/** Bounds of the data-key caches. Every bound is hard: reaching one forces a new KMS call. */
export interface EnvelopeCacheOptions {
  /** Age after which a cached data key is dropped (encrypt and decrypt). Default 5 minutes. */
  readonly maxAgeMs?: number;
  /** Messages one encrypt data key may protect. Default 10,000. */
  readonly maxMessages?: number;
  /** Plaintext bytes one encrypt data key may protect. Default 64 MiB. */
  readonly maxBytes?: number;
  /** Unwrapped data keys kept for decryption (least recently used dropped). Default 1,000. */
  readonly maxDecryptEntries?: number;
}

/** Defaults of `EnvelopeCacheOptions`. */
export const defaultEnvelopeCache: Required<EnvelopeCacheOptions> = Object.freeze({
  maxAgeMs: 5 * 60_000,
  maxMessages: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxDecryptEntries: 1_000,
});

export interface EnvelopeOptions extends DeploymentContext {
  /** A KMS key (with optional local endpoint/credentials), or any Encryption SDK keyring. */
  readonly kms: KmsOptions | { readonly keyring: KeyringNode };
  /** Cache bounds, or `false` for one KMS call per message. */
  readonly cache?: EnvelopeCacheOptions | false;
  /** Default `unsigned` (see README). Decryption accepts both committing suites. */
  readonly suite?: EnvelopeSuite;
  /** Frame size of streamed messages. Default 64 KiB. */
  readonly streamFrameLength?: number;
}

/** Counters for tests, metrics and benchmarks. `kmsCalls` counts only with `kms: { keyId }`. */
export interface EnvelopeStats {
  readonly kmsCalls: KmsCallCounts;
  readonly encryptCache: DataKeyCacheStats;
  readonly decryptCache: DataKeyCacheStats;
}

/**
 * Envelope encryption bound to one deployment (`app`, `stage`) and one KMS key, of messages held in
 * memory. `EnvelopeCrypto` adds streams.
 */
export interface InMemoryEnvelopeCrypto {
  /** Encrypts the sensitive fields of one record as one message. */
  encryptFields(fields: SensitiveFields, ctx: RecordContext): Promise<Uint8Array>;
  /** Decrypts what `encryptFields` wrote for the same context; `ContextMismatchError` otherwise. */
  decryptFields(ciphertext: Uint8Array, ctx: RecordContext): Promise<SensitiveFields>;
  /** Encrypts bytes as one message. */
  encryptBytes(plaintext: Uint8Array, ctx: RecordContext): Promise<Uint8Array>;
  /** Decrypts one message written for the same context. */
  decryptBytes(ciphertext: Uint8Array, ctx: RecordContext): Promise<Uint8Array>;
  stats(): EnvelopeStats;
  /** Drops and zeroes every cached data key. */
  clearCache(): void;
}

/** Largest frame written or accepted (the SDK's `maxBodySize`: what one frame may buffer). */
export const maxStreamFrameLength = 4 * 1024 * 1024;

/** Frame size of in-memory messages: the SDK default; a record fits in one or two frames. */
const recordFrameLength = 4096;

const zeroCounts = (): KmsCallCounts => ({ generateDataKey: 0, decrypt: 0, encrypt: 0 });

function positive(name: string, value: number, integer: boolean): number {
  if (!(value > 0) || (integer && !Number.isInteger(value) && value !== Number.POSITIVE_INFINITY)) {
    throw new CryptoConfigError(`cache.${name} must be a positive ${integer ? "integer" : "number"}`);
  }
  return value;
}

function buildCaches(cache: EnvelopeCacheOptions | false | undefined) {
  if (cache === false) return {};
  const o = { ...defaultEnvelopeCache, ...cache };
  const maxAgeMs = positive("maxAgeMs", o.maxAgeMs, false);
  return {
    encrypt: new DataKeyCache<NodeEncryptionMaterial>(
      {
        maxAgeMs,
        maxMessages: positive("maxMessages", o.maxMessages, true),
        maxBytes: positive("maxBytes", o.maxBytes, true),
        // Few partitions exist (app × stage × purpose × suite); the bound only guards against misuse.
        maxEntries: 64,
      },
      zeroMaterial,
    ),
    decrypt: new DataKeyCache<NodeDecryptionMaterial>(
      {
        maxAgeMs,
        maxMessages: Number.POSITIVE_INFINITY,
        maxBytes: Number.POSITIVE_INFINITY,
        maxEntries: positive("maxDecryptEntries", o.maxDecryptEntries, true),
      },
      zeroMaterial,
    ),
  };
}

/**
 * Turns anything a crypto operation threw into a typed error that quotes nothing. The SDK's own errors
 * are plain `Error`s; their messages only choose the label, and every branch fails closed.
 */
export function typed(err: unknown, phase: "encrypt" | "decrypt"): CryptoError {
  if (err instanceof CryptoError) return err;
  if (phase === "encrypt") return new EncryptError("encryption failed");
  const message = err instanceof Error ? err.message : "";
  if (/authenticate|Commitment does not match|signature/i.test(message)) {
    return new CiphertextError("tampered");
  }
  if (/suite|commitment policy|Configuration conflict/i.test(message)) {
    return new CiphertextError("unsupportedSuite");
  }
  return new CiphertextError("malformed");
}

/** A CMM for one decrypt call: refuses foreign suites and contexts before any key is unwrapped. */
export function expecting(cmm: NodeMaterialsManager, expected: MessageContext): NodeMaterialsManager {
  return {
    getEncryptionMaterials: () => Promise.reject(new EncryptError("a decrypt-only materials manager")),
    decryptMaterials: async (request) => {
      if (!envelopeDecryptSuites.has(request.suite.id)) throw new CiphertextError("unsupportedSuite");
      assertContextMatches(request.encryptionContext, expected, request.suite.signatureCurve !== undefined);
      return cmm.decryptMaterials(request);
    },
  };
}

/**
 * Checks the context of an authenticated header once more, whatever the materials manager did; on a
 * mismatch the plaintext already decrypted is zeroed before the error is thrown.
 */
export function assertHeaderContext(
  header: { readonly encryptionContext: Readonly<Record<string, string>>; readonly suiteId: number },
  expected: MessageContext,
  plaintext?: Uint8Array,
): void {
  try {
    assertContextMatches(header.encryptionContext, expected, header.suiteId === envelopeSuites.signed);
  } catch (err) {
    plaintext?.fill(0);
    throw err;
  }
}

function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoConfigError(`${what} must be a Uint8Array`);
}

/** What `createEnvelopeCrypto` adds streams with: the API and the settings it was built from. */
export interface EnvelopeParts {
  readonly api: InMemoryEnvelopeCrypto;
  readonly client: EsdkClient;
  readonly cmm: PartitionedCachingMaterialsManager;
  readonly deployment: DeploymentContext;
  readonly suiteId: (typeof envelopeSuites)[EnvelopeSuite];
  readonly frameLength: number;
}

/**
 * Creates envelope encryption of in-memory messages for one deployment. With
 * `kms: { keyId, endpoint?, credentials? }` the keyring is the SDK's KMS keyring (`KmsKeyring`) over
 * a KMS client per region; with `{ keyring }` any Encryption SDK keyring is used as is.
 *
 * @example
 * const envelope = createInMemoryEnvelopeCrypto({ app: "veil", stage: "dev", kms: { keyId: keyArn } });
 * const ctx = { ownerId, recordId, purpose: "record.sensitive" };
 * const ciphertext = await envelope.encryptFields({ fullName: "Ada Lovelace" }, ctx);
 * const fields = await envelope.decryptFields(ciphertext, ctx);
 */
export function createInMemoryEnvelopeCrypto(options: EnvelopeOptions): InMemoryEnvelopeCrypto {
  return envelopeParts(options).api;
}

/** `createInMemoryEnvelopeCrypto`, with what a stream layer needs to share its client and caches. */
export function envelopeParts(options: EnvelopeOptions): EnvelopeParts {
  const deployment: DeploymentContext = { app: options.app, stage: options.stage };
  const suiteName = options.suite ?? "unsigned";
  const suiteId = envelopeSuites[suiteName];
  if (suiteId === undefined) throw new CryptoConfigError("suite must be 'unsigned' or 'signed'");
  const frameLength = options.streamFrameLength ?? 64 * 1024;
  if (!Number.isInteger(frameLength) || frameLength < 1024 || frameLength > maxStreamFrameLength) {
    throw new CryptoConfigError("streamFrameLength must be an integer from 1 KiB to 4 MiB");
  }
  // Validate the deployment part of the context now rather than on the first call.
  messageContext(deployment, { ownerId: "-", recordId: "-", purpose: "-" });

  const kmsCalls = zeroCounts();
  const failures = new KmsDecryptFailures();
  let keyring: KeyringNode;
  if ("keyring" in options.kms) {
    keyring = options.kms.keyring;
  } else {
    assertKeyArn(options.kms.keyId);
    keyring = new KmsKeyring({
      generatorKeyId: options.kms.keyId,
      clientProvider: instrumentedClientProvider(options.kms, kmsCalls, failures) as never,
    });
  }
  const caches = buildCaches(options.cache);
  const cmm = new PartitionedCachingMaterialsManager(
    new NodeDefaultCryptographicMaterialsManager(keyring),
    caches,
    failures,
  );
  // Committing suites only, and one encrypted data key per message: each extra one would cost a KMS
  // call on decrypt (a denial-of-service lever).
  const client = buildClient({
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
    maxEncryptedDataKeys: 1,
  });

  async function encryptBytes(plaintext: Uint8Array, ctx: RecordContext): Promise<Uint8Array> {
    assertBytes(plaintext, "plaintext");
    const encryptionContext = messageContext(deployment, ctx);
    try {
      const { result } = await client.encrypt(cmm, plaintext, {
        encryptionContext,
        suiteId,
        frameLength: recordFrameLength,
        plaintextLength: plaintext.byteLength,
      });
      return result;
    } catch (err) {
      throw typed(err, "encrypt");
    }
  }

  async function decryptBytes(ciphertext: Uint8Array, ctx: RecordContext): Promise<Uint8Array> {
    assertBytes(ciphertext, "ciphertext");
    const expected = messageContext(deployment, ctx);
    let out: Awaited<ReturnType<EsdkClient["decrypt"]>>;
    try {
      out = await client.decrypt(expecting(cmm, expected), ciphertext, { maxBodySize: maxStreamFrameLength });
    } catch (err) {
      throw typed(err, "decrypt");
    }
    assertHeaderContext(out.messageHeader, expected, out.plaintext);
    return out.plaintext;
  }

  const api: InMemoryEnvelopeCrypto = {
    async encryptFields(fields, ctx) {
      return encryptBytes(encodeSensitiveFields(fields), ctx);
    },
    async decryptFields(ciphertext, ctx) {
      const plaintext = await decryptBytes(ciphertext, ctx);
      try {
        return decodeSensitiveFields(plaintext);
      } finally {
        plaintext.fill(0);
      }
    },
    encryptBytes,
    decryptBytes,
    stats() {
      return {
        kmsCalls: { ...kmsCalls },
        encryptCache: caches.encrypt?.stats() ?? { hits: 0, loads: 0, entries: 0 },
        decryptCache: caches.decrypt?.stats() ?? { hits: 0, loads: 0, entries: 0 },
      };
    },
    clearCache() {
      caches.encrypt?.clear();
      caches.decrypt?.clear();
    },
  };
  return { api, client, cmm, deployment, suiteId, frameLength };
}
