/**
 * The peer baseline's crypto: what a team writes from the AWS Encryption SDK's documentation for a
 * records handler behind CloudFront field-level encryption. The stock client decrypts each FLE field
 * of a form separately with a raw RSA keyring, and encrypts a record's sensitive fields through the
 * stock caching materials manager over a KMS keyring, with the per-record encryption context — so its
 * cache is keyed by that context and misses on every new record.
 *
 * Deliberately good-faith: the RSA key is parsed once (a PEM string, as the documentation's examples
 * pass it, is parsed again on every decrypt), and the algorithm suite is ours (the SDK's default adds
 * an ECDSA signature to every record).
 */
import { createPrivateKey } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getLocalCryptographicMaterialsCache,
  KmsKeyringNode,
  type KmsKeyringNodeInput,
  NodeCachingMaterialsManager,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { isFleField } from "../../packages/core/src/index.ts";

export interface PeerRecordsCryptoOptions {
  readonly app: string;
  readonly stage: string;
  /** The KMS key ARN that generates the records' data keys. */
  readonly keyArn: string;
  /** The keyring's KMS clients; default: the SDK's (`@aws-sdk/client-kms`, endpoint and credentials from the environment). */
  readonly kmsClientProvider?: KmsKeyringNodeInput["clientProvider"];
  /** The FLE private key CloudFront's public key pairs with, and its names in the FLE profile. */
  readonly fle: { readonly providerId: string; readonly keyName: string; readonly privateKeyPem: string };
}

/** The per-record context a record is encrypted under. */
export interface PeerRecordContext {
  readonly ownerId: string;
  readonly recordId: string;
  readonly purpose: string;
}

export interface PeerRecordsCrypto {
  /** Parses a url-encoded form and decrypts its FLE fields, one SDK decrypt per field. */
  openForm(body: string): Promise<Record<string, string>>;
  /** Encrypts a record's sensitive fields as one message (JSON) under the per-record context. */
  encryptFields(fields: Readonly<Record<string, string>>, ctx: PeerRecordContext): Promise<Uint8Array>;
  /** Decrypts what `encryptFields` wrote, checking the context. */
  decryptFields(ciphertext: Uint8Array, ctx: PeerRecordContext): Promise<Record<string, string>>;
}

/** The cache bounds of the documentation's caching example, set to ours (5 minutes, 10,000 messages, 64 MiB). */
const cacheBounds = { maxAge: 5 * 60_000, maxMessagesEncrypted: 10_000, maxBytesEncrypted: 64 * 1024 * 1024 };

/**
 * Builds the peer's crypto.
 *
 * @example
 * const crypto = createPeerRecordsCrypto({ app: "veil", stage: "dev", keyArn, fle: { providerId, keyName, privateKeyPem } });
 * const form = await crypto.openForm(event.body);
 */
export function createPeerRecordsCrypto(options: PeerRecordsCryptoOptions): PeerRecordsCrypto {
  const fleClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
  const recordsClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const fleKeyring = new RawRsaKeyringNode({
    keyNamespace: options.fle.providerId,
    keyName: options.fle.keyName,
    rsaKey: { privateKey: createPrivateKey(options.fle.privateKeyPem) as never },
    oaepHash: "sha256",
  });
  const recordsKeyring = new KmsKeyringNode({
    generatorKeyId: options.keyArn,
    ...(options.kmsClientProvider ? { clientProvider: options.kmsClientProvider } : {}),
  });
  const cmm = new NodeCachingMaterialsManager({
    backingMaterials: recordsKeyring,
    cache: getLocalCryptographicMaterialsCache(1000),
    partition: `${options.app}-${options.stage}`,
    ...cacheBounds,
  });
  const contextOf = (ctx: PeerRecordContext): Record<string, string> => ({
    app: options.app,
    stage: options.stage,
    ownerId: ctx.ownerId,
    recordId: ctx.recordId,
    purpose: ctx.purpose,
  });

  return {
    async openForm(body) {
      const fields: Record<string, string> = {};
      for (const [name, value] of new URLSearchParams(body)) {
        if (name in fields) throw new Error(`duplicate field ${name}`);
        if (!isFleField(name) || value === "") {
          fields[name] = value;
          continue;
        }
        const { plaintext } = await fleClient.decrypt(fleKeyring, Buffer.from(value, "base64"));
        fields[name] = plaintext.toString("utf8");
      }
      return fields;
    },
    async encryptFields(fields, ctx) {
      const { result } = await recordsClient.encrypt(cmm, JSON.stringify(fields), {
        encryptionContext: contextOf(ctx),
        suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
      });
      return result;
    },
    async decryptFields(ciphertext, ctx) {
      const { plaintext, messageHeader } = await recordsClient.decrypt(cmm, ciphertext);
      for (const [key, value] of Object.entries(contextOf(ctx))) {
        if (messageHeader.encryptionContext[key] !== value) throw new Error("encryption context mismatch");
      }
      return JSON.parse(plaintext.toString("utf8")) as Record<string, string>;
    },
  };
}
