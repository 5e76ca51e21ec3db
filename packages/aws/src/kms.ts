/**
 * KMS `GenerateDataKey`, `Encrypt` and `Decrypt` — the three calls the AWS Encryption SDK's KMS keyring
 * makes — typed and shaped exactly as the AWS SDK v3 client answers them (binary fields as
 * `Uint8Array`), so the keyring runs on it unchanged. The calls go through `json-client.ts`.
 */
import { type AwsClientOptions, createJsonClient } from "./json-client.ts";

type Blob = Uint8Array;

/** The subset of the AWS SDK v3 KMS client the Encryption SDK keyring calls. */
export interface KmsLikeClient {
  generateDataKey(input: {
    KeyId: string;
    NumberOfBytes?: number;
    EncryptionContext?: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; Plaintext?: Blob; CiphertextBlob?: Blob }>;
  encrypt(input: {
    KeyId: string;
    Plaintext: Blob;
    EncryptionContext?: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; CiphertextBlob?: Blob }>;
  decrypt(input: {
    KeyId?: string;
    CiphertextBlob: Blob;
    EncryptionContext?: Record<string, string>;
    GrantTokens?: string[];
  }): Promise<{ KeyId?: string; Plaintext?: Blob }>;
}

/** Options of {@link createKmsClient}: see `AwsClientOptions` (region, endpoint, credentials, retries). */
export interface KmsClientOptions extends AwsClientOptions {}

/** KMS as `json-client.ts` calls it. */
export const kmsService = {
  signingName: "kms",
  endpointPrefix: "kms",
  targetPrefix: "TrentService",
  endpointEnvId: "KMS",
} as const;

const toBase64 = (bytes: Blob) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");

/**
 * Decodes a base64 field into its own memory (never Node's shared pool), since it may be a plaintext
 * data key the caller zeroes after use. Anything but a string reads as absent.
 */
function fromBase64(value: unknown): Blob | undefined {
  if (typeof value !== "string") return undefined;
  const out = Buffer.alloc(Buffer.byteLength(value, "base64"));
  const written = out.write(value, "base64");
  return new Uint8Array(out.buffer, out.byteOffset, written);
}

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/** Drops undefined members, as the SDK serialiser does. */
function defined(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

/**
 * Creates a KMS client. Failures reject with `AwsServiceError` (`name` = the KMS error code, e.g.
 * `InvalidCiphertextException`), `AwsNetworkError`, `AwsCredentialsError` or `AwsConfigError`.
 *
 * @example
 * const kms = createKmsClient({ region: "eu-central-2" });
 * const key = await kms.generateDataKey({ KeyId: arn, NumberOfBytes: 32, EncryptionContext: ctx });
 */
export function createKmsClient(options: KmsClientOptions = {}): KmsLikeClient {
  const client = createJsonClient(kmsService, options);
  return {
    async generateDataKey(input) {
      const out = await client.call("GenerateDataKey", defined({ ...input }));
      return defined({
        KeyId: text(out.KeyId),
        Plaintext: fromBase64(out.Plaintext),
        CiphertextBlob: fromBase64(out.CiphertextBlob),
      });
    },
    async encrypt(input) {
      const out = await client.call("Encrypt", defined({ ...input, Plaintext: toBase64(input.Plaintext) }));
      return defined({ KeyId: text(out.KeyId), CiphertextBlob: fromBase64(out.CiphertextBlob) });
    },
    async decrypt(input) {
      const out = await client.call(
        "Decrypt",
        defined({ ...input, CiphertextBlob: toBase64(input.CiphertextBlob) }),
      );
      return defined({ KeyId: text(out.KeyId), Plaintext: fromBase64(out.Plaintext) });
    },
  };
}
