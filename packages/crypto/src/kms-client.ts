/**
 * The KMS client the Encryption SDK keyring calls, built so that it can point at a local KMS (endpoint +
 * static credentials), is created once per region, counts its calls, and turns KMS failures into typed
 * errors. Also the keyring class itself (see `KmsKeyring`).
 */
import { KmsKeyringClass } from "@aws-crypto/kms-keyring";
import { immutableClass, KeyringNode, type NodeAlgorithmSuite } from "@aws-crypto/material-management-node";
import { createKmsClient, type KmsLikeClient } from "@veil/aws";
import { CiphertextError, CryptoConfigError, type CryptoError, KmsUnavailableError } from "./errors.ts";

/** The shape of the KMS client the keyring calls; lives in `@veil/aws`, re-exported under its old name. */
export type { KmsLikeClient };

/** Static credentials, e.g. for a local KMS. Omit to use the default chain (environment, container). */
export interface KmsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Returns the client for a region (the keyring passes the region of the key ARN). */
export type KmsClientProvider = (region: string) => KmsLikeClient;

/** Where the KMS key lives and how to reach it. */
export interface KmsOptions {
  /** The key ARN (not an alias: decryption matches the ARN KMS recorded in each message). */
  readonly keyId: string;
  /** Defaults to the region of the key ARN. */
  readonly region?: string;
  /** A non-AWS endpoint, e.g. `http://127.0.0.1:4599` for the local KMS. */
  readonly endpoint?: string;
  readonly credentials?: KmsCredentials;
  /** Attempts per call, retries included (default 3, the AWS SDK's standard mode). */
  readonly maxAttempts?: number;
  /** Replaces the KMS client entirely, e.g. with an in-process stand-in in tests. */
  readonly clientProvider?: KmsClientProvider;
}

/** KMS calls made through one provider, by operation. */
export interface KmsCallCounts {
  generateDataKey: number;
  decrypt: number;
  encrypt: number;
}

const keyArnRe = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** Throws unless `keyId` is a KMS key ARN. */
export function assertKeyArn(keyId: string): void {
  if (typeof keyId !== "string" || !keyArnRe.test(keyId)) {
    throw new CryptoConfigError("kms.keyId must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)");
  }
}

/** KMS errors that mean "this ciphertext (or its context) is not valid for this key". */
const ciphertextErrorNames = new Set(["InvalidCiphertextException", "IncorrectKeyException"]);

function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  const code = (err as { code?: unknown } | null)?.code;
  const pick = typeof code === "string" && name === "Error" ? code : name;
  return typeof pick === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(pick) ? pick : "Error";
}

/** Maps a failed KMS call to a typed error. */
export function kmsFailure(operation: string, err: unknown): CryptoError {
  const name = errorName(err);
  if (operation === "Decrypt" && ciphertextErrorNames.has(name)) return new CiphertextError("wrongKey");
  return new KmsUnavailableError(operation, name);
}

/**
 * Typed errors of failed KMS Decrypt calls, by encrypted data key. The keyring folds per-key errors
 * into one untyped error; this lets the materials manager recover the typed one without parsing
 * messages. Keyed by content (the SDK hands out copies of the bytes), bounded, read once.
 */
export class KmsDecryptFailures {
  readonly #failures = new Map<string, CryptoError>();

  record(encryptedDataKey: Uint8Array, error: CryptoError): void {
    if (this.#failures.size >= 256) this.#failures.delete(this.#failures.keys().next().value as string);
    this.#failures.set(Buffer.from(encryptedDataKey).toString("base64"), error);
  }

  take(encryptedDataKey: Uint8Array): CryptoError | undefined {
    const key = Buffer.from(encryptedDataKey).toString("base64");
    const error = this.#failures.get(key);
    this.#failures.delete(key);
    return error;
  }
}

/**
 * The SDK's `KmsKeyringNode` without its default client: that one is built on the aggregated `KMS`
 * client of `@aws-sdk/client-kms`, which brings every KMS operation (and the AWS SDK) into a bundle.
 * Veil always passes its own client provider (below), which uses the KMS client of `@veil/aws` (the
 * three calls the keyring makes). Same keyring logic (`KmsKeyringClass` of `@aws-crypto/kms-keyring`),
 * same immutability.
 */
export class KmsKeyring extends KmsKeyringClass<NodeAlgorithmSuite, KmsLikeClient>(KeyringNode as never) {}
immutableClass(KmsKeyring);

/**
 * The KMS client for one region, shaped as the keyring calls it (`generateDataKey`, `encrypt`,
 * `decrypt`). Its errors are named by the KMS error code (`InvalidCiphertextException`, …), which
 * `kmsFailure` maps to typed errors.
 */
function awsClient(options: KmsOptions, region: string): KmsLikeClient {
  return createKmsClient({
    region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
}

/** A provider whose clients count calls and throw typed errors; one KMS client per region. */
export function instrumentedClientProvider(
  options: KmsOptions,
  counts: KmsCallCounts,
  failures: KmsDecryptFailures,
): KmsClientProvider {
  const base: KmsClientProvider = options.clientProvider ?? ((region) => awsClient(options, region));
  const clients = new Map<string, KmsLikeClient>();
  return (region) => {
    const key = options.region ?? region;
    let client = clients.get(key);
    if (!client) {
      const inner = base(key);
      client = {
        async generateDataKey(input) {
          counts.generateDataKey++;
          try {
            return await inner.generateDataKey(input);
          } catch (err) {
            throw kmsFailure("GenerateDataKey", err);
          }
        },
        async encrypt(input) {
          counts.encrypt++;
          try {
            return await inner.encrypt(input);
          } catch (err) {
            throw kmsFailure("Encrypt", err);
          }
        },
        async decrypt(input) {
          counts.decrypt++;
          try {
            return await inner.decrypt(input);
          } catch (err) {
            const typed = kmsFailure("Decrypt", err);
            failures.record(input.CiphertextBlob, typed);
            throw typed;
          }
        },
      };
      clients.set(key, client);
    }
    return client;
  };
}
