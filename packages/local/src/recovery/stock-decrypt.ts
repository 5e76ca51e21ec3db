/**
 * Recovery with stock tools: decrypts Veil's stored ciphertexts (a record's `ciphertext` column, an
 * image object) with the AWS Encryption SDK client (`buildClient().decrypt`/`decryptStream`), its
 * `KmsKeyringNode` and an AWS SDK v3 `KMSClient` — no Veil cryptography, no cipher or message-format
 * code. It imports nothing but those two libraries and Node, so it can be audited on its own and still
 * works when the rest of Veil is gone (docs/recovery.md).
 *
 * The one Veil-specific piece is how KMS is asked (`partitionContextKms`), see there.
 */
import type { Readable, Writable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
  type KmsNodeClientSupplier,
  type MessageHeader,
} from "@aws-crypto/client-node";
import { DecryptCommand, type KMSClient } from "@aws-sdk/client-kms";

/** The message context Veil writes into every header (authenticated, not encrypted; ids only). */
export type VeilMessageContext = Readonly<
  Record<"app" | "stage" | "ownerId" | "recordId" | "purpose", string>
>;

/** The keys of the message context KMS binds a data key to (a key policy can condition on these). */
export const partitionContextKeys = ["app", "stage", "purpose"] as const;

/** The Encryption SDK's own context key for the signing public key (signed suites only). */
const signerKey = "aws-crypto-public-key";

/** The `purpose` values of the stored kinds of data. Stored in every ciphertext: they never change. */
export const storedPurposes = { record: "record.sensitive", image: "record.image" } as const;

/** Refusals of the recovery path. Messages name context keys, never values or plaintext. */
export class RecoveryError extends Error {
  override readonly name = "RecoveryError";
}

/** The context a record's `ciphertext` column must carry. */
export function recordContext(p: {
  app: string;
  stage: string;
  ownerId: string;
  recordId: string;
}): VeilMessageContext {
  return {
    app: p.app,
    stage: p.stage,
    ownerId: p.ownerId,
    recordId: p.recordId,
    purpose: storedPurposes.record,
  };
}

/** The context a stored image must carry: the record id with `/images/<image id>` appended. */
export function imageContext(p: {
  app: string;
  stage: string;
  ownerId: string;
  recordId: string;
  imageId: string;
}): VeilMessageContext {
  return {
    app: p.app,
    stage: p.stage,
    ownerId: p.ownerId,
    recordId: `${p.recordId}/images/${p.imageId}`,
    purpose: storedPurposes.image,
  };
}

/**
 * A KMS client for `KmsKeyringNode` that sends `Decrypt` with the partition context instead of the
 * message's whole context.
 *
 * Why: Veil generates each data key under `{app, stage, purpose}` only, and lets one data key serve many
 * records of that partition; every message still carries — and authenticates in its header — the full
 * `{app, stage, ownerId, recordId, purpose}`. The stock keyring asks KMS to decrypt with the whole
 * message context, which KMS refuses (it is not the context the data key was wrapped under). So this
 * client passes on exactly the partition keys (plus the SDK's signing-key entry for signed suites, which
 * KMS saw when the key was generated), taken from the message itself. The client provider is the
 * keyring's documented extension point; the SDK still verifies the header tag (which covers the whole
 * context), the key commitment and every frame. Recovery never writes: encrypt and generateDataKey fail.
 */
export function partitionContextKms(kms: KMSClient, region: string): KmsNodeClientSupplier {
  const client = {
    async decrypt(input: {
      KeyId?: string;
      CiphertextBlob: Uint8Array;
      EncryptionContext?: Record<string, string>;
      GrantTokens?: string[];
    }) {
      const message = input.EncryptionContext ?? {};
      const partition: Record<string, string> = {};
      for (const key of partitionContextKeys) {
        const value = message[key];
        if (value === undefined)
          throw new RecoveryError(`the message context has no ${key}: not a Veil message`);
        partition[key] = value;
      }
      const signer = message[signerKey];
      if (signer !== undefined) partition[signerKey] = signer;
      return kms.send(
        new DecryptCommand({
          KeyId: input.KeyId,
          CiphertextBlob: input.CiphertextBlob,
          EncryptionContext: partition,
          GrantTokens: input.GrantTokens,
        }),
      );
    },
    async encrypt(): Promise<never> {
      throw new RecoveryError("recovery only decrypts");
    },
    async generateDataKey(): Promise<never> {
      throw new RecoveryError("recovery only decrypts");
    },
  };
  // Data keys wrapped by a key of another region are not ours to ask for: the keyring skips them.
  return (keyRegion: string) => (keyRegion === region ? client : false);
}

export interface RecoveryKeyringOptions {
  /** A KMS client with the recovery role's credentials. */
  readonly kms: KMSClient;
  /** The region of `kms` (the data key's region). */
  readonly region: string;
  /**
   * The data key's ARN: only data keys wrapped by it are sent to KMS. Required: in discovery mode a
   * database writer could plant a message wrapped by a key of their own, and recovery would ask their
   * KMS (telling them who recovers what) and return fields they forged.
   */
  readonly keyArn: string;
}

/** The stock `KmsKeyringNode` over `partitionContextKms`. */
export function recoveryKeyring(options: RecoveryKeyringOptions): KmsKeyringNode {
  const clientProvider = partitionContextKms(options.kms, options.region);
  return new KmsKeyringNode({ clientProvider, keyIds: [options.keyArn] });
}

/**
 * The stock client: committing suites only (Veil writes 0x0478, or 0x0578 when configured to sign),
 * and one encrypted data key per message, which is what Veil writes.
 */
export const stockClient = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});

/**
 * Throws unless an authenticated header's context is exactly `expected` (plus the SDK's signing-key
 * entry): a ciphertext copied onto another record, owner, kind or stage is refused.
 */
export function checkContext(header: MessageHeader, expected: VeilMessageContext): void {
  const actual = header.encryptionContext;
  const differing = Object.keys(expected).filter(
    (k) => actual[k] !== expected[k as keyof VeilMessageContext],
  );
  const extra = Object.keys(actual).filter((k) => !(k in expected) && k !== signerKey);
  if (differing.length + extra.length > 0) {
    throw new RecoveryError(
      `the ciphertext belongs elsewhere: its context differs in ${[...differing, ...extra].join(", ")}`,
    );
  }
}

/**
 * Decrypts a record's `ciphertext` column with the stock client, checks its context and returns the
 * sensitive fields (the plaintext is one JSON object of strings).
 *
 * @example
 * const keyring = recoveryKeyring({ kms: new KMSClient({ region }), region, keyArn });
 * const fields = await recoverRecord(keyring, row.ciphertext, recordContext({ app: "veil", stage, ownerId, recordId }));
 */
export async function recoverRecord(
  keyring: KmsKeyringNode,
  ciphertext: Uint8Array,
  expected: VeilMessageContext,
): Promise<Record<string, string>> {
  const { plaintext, messageHeader } = await stockClient.decrypt(keyring, ciphertext);
  try {
    checkContext(messageHeader, expected);
    const fields: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
    if (
      fields === null ||
      typeof fields !== "object" ||
      Array.isArray(fields) ||
      Object.values(fields).some((v) => typeof v !== "string")
    ) {
      throw new RecoveryError("the record's plaintext is not an object of strings");
    }
    return fields as Record<string, string>;
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Decrypts a stored image from `source` into `destination` with the stock stream client. No byte
 * reaches `destination` before the authenticated header's context was checked; a truncated or
 * tampered object fails at the end, so write to a temporary file and keep it only when this resolves.
 */
export async function recoverImage(
  keyring: KmsKeyringNode,
  source: Readable,
  destination: Writable,
  expected: VeilMessageContext,
): Promise<void> {
  const decrypting = stockClient.decryptStream(keyring);
  let checked: Error | true | undefined;
  decrypting.once("MessageHeader", (header: MessageHeader) => {
    try {
      checkContext(header, expected);
      checked = true;
    } catch (err) {
      checked = err as Error;
    }
  });
  const gate = new Transform({
    transform(chunk, _encoding, done) {
      if (checked === true) done(null, chunk);
      else done(checked ?? new RecoveryError("plaintext before a checked header"));
    },
    flush(done) {
      done(checked === true || checked === undefined ? null : checked);
    },
  });
  await pipeline(source, decrypting, gate, destination);
  if (checked !== true) throw checked ?? new RecoveryError("the image has no message header");
}
