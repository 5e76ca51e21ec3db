/**
 * An in-process stand-in for AWS KMS, for tests and benchmarks: GenerateDataKey, Encrypt and Decrypt,
 * where a ciphertext blob is the key ARN plus a random handle of what it seals (no cryptography: the
 * stand-in only has to behave like KMS). A context mismatch, another key or a changed byte is
 * `InvalidCiphertextException`, as in KMS; a counter per operation. It has the shape the Encryption SDK
 * keyring calls (the aggregated SDK client).
 * Not for production: data keys live in memory.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { KmsClientProvider, KmsLikeClient } from "../kms-client.ts";

/** An error shaped like an AWS SDK service exception. */
export class KmsStandInError extends Error {
  readonly $fault: "client" | "server";
  constructor(name: string, message: string, fault: "client" | "server" = "client") {
    super(message);
    this.name = name;
    this.$fault = fault;
  }
}

export interface KmsStandInOptions {
  /** Region and account of the generated key ARNs. */
  readonly region?: string;
  readonly account?: string;
  /** Delay added to every call, to widen race windows in concurrency tests. */
  readonly latencyMs?: number;
}

export interface KmsStandIn {
  /** The ARN of the first key (created with the stand-in). */
  readonly keyArn: string;
  /** Calls by operation, including failed ones. */
  readonly calls: { generateDataKey: number; encrypt: number; decrypt: number };
  readonly client: KmsLikeClient;
  /** Pass as `kms.clientProvider`. */
  readonly clientProvider: KmsClientProvider;
  /** Creates another key and returns its ARN. */
  createKey(): string;
  /** Disables or enables a key (`DisabledException` while disabled). */
  setKeyEnabled(keyArn: string, enabled: boolean): void;
  /** While true every call fails as an unreachable service would. */
  setUnavailable(unavailable: boolean): void;
  resetCalls(): void;
}

const blobVersion = 1;

function canonicalContext(context: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Creates a stand-in with one key. */
export function createKmsStandIn(options: KmsStandInOptions = {}): KmsStandIn {
  const region = options.region ?? "eu-west-1";
  const account = options.account ?? "111122223333";
  const keys = new Map<string, { enabled: boolean }>();
  // What each ciphertext blob stands for: the blob carries a random handle, never the plaintext.
  const sealed = new Map<string, { arn: string; plaintext: Uint8Array; context: string }>();
  const calls = { generateDataKey: 0, encrypt: 0, decrypt: 0 };
  let unavailable = false;

  function createKey(): string {
    const arn = `arn:aws:kms:${region}:${account}:key/${randomUUID()}`;
    keys.set(arn, { enabled: true });
    return arn;
  }

  async function pause(): Promise<void> {
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    if (unavailable) {
      throw Object.assign(new Error("connect ECONNREFUSED"), { name: "Error", code: "ECONNREFUSED" });
    }
  }

  function lookup(keyId: string): { arn: string } {
    const key = keys.get(keyId);
    if (!key) throw new KmsStandInError("NotFoundException", "Key does not exist");
    if (!key.enabled) throw new KmsStandInError("DisabledException", "Key is disabled");
    return { arn: keyId };
  }

  /** A blob: version, ARN length, ARN, then a random 32-byte handle of the sealed entry. */
  function seal(arn: string, plaintext: Uint8Array, context?: Record<string, string>) {
    const handle = randomBytes(32);
    sealed.set(handle.toString("base64"), {
      arn,
      plaintext: new Uint8Array(plaintext),
      context: canonicalContext(context),
    });
    const arnBytes = Buffer.from(arn, "utf8");
    const header = Buffer.alloc(3);
    header.writeUInt8(blobVersion, 0);
    header.writeUInt16BE(arnBytes.length, 1);
    return new Uint8Array(Buffer.concat([header, arnBytes, handle]));
  }

  function invalid(): KmsStandInError {
    return new KmsStandInError("InvalidCiphertextException", "The ciphertext is invalid");
  }

  function openArn(blob: Uint8Array): string {
    const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (buf.length < 3 + 32 || buf.readUInt8(0) !== blobVersion) throw invalid();
    const arnLength = buf.readUInt16BE(1);
    if (buf.length !== 3 + arnLength + 32) throw invalid();
    return buf.subarray(3, 3 + arnLength).toString("utf8");
  }

  function open(arn: string, blob: Uint8Array, context?: Record<string, string>): Uint8Array {
    const entry = sealed.get(Buffer.from(blob.subarray(blob.byteLength - 32)).toString("base64"));
    // As in KMS: another key, another context or any changed byte is the same InvalidCiphertext.
    if (!entry || entry.arn !== arn || entry.context !== canonicalContext(context)) throw invalid();
    return new Uint8Array(entry.plaintext);
  }

  const client: KmsLikeClient = {
    async generateDataKey({ KeyId, NumberOfBytes, EncryptionContext }) {
      calls.generateDataKey++;
      await pause();
      const key = lookup(KeyId);
      const size = NumberOfBytes ?? 32;
      if (!Number.isInteger(size) || size < 1 || size > 1024) {
        throw new KmsStandInError("ValidationException", "NumberOfBytes must be 1..1024");
      }
      const plaintext = new Uint8Array(randomBytes(size));
      return {
        KeyId: key.arn,
        Plaintext: plaintext,
        CiphertextBlob: seal(key.arn, plaintext, EncryptionContext),
      };
    },
    async encrypt({ KeyId, Plaintext, EncryptionContext }) {
      calls.encrypt++;
      await pause();
      const key = lookup(KeyId);
      if (Plaintext.byteLength < 1 || Plaintext.byteLength > 4096) {
        throw new KmsStandInError("ValidationException", "Plaintext must be 1..4096 bytes");
      }
      return { KeyId: key.arn, CiphertextBlob: seal(key.arn, Plaintext, EncryptionContext) };
    },
    async decrypt({ KeyId, CiphertextBlob, EncryptionContext }) {
      calls.decrypt++;
      await pause();
      const arn = openArn(CiphertextBlob);
      if (KeyId !== undefined && KeyId !== arn) {
        throw new KmsStandInError(
          "IncorrectKeyException",
          "The key ID in the request does not identify the key",
        );
      }
      lookup(arn);
      return { KeyId: arn, Plaintext: open(arn, CiphertextBlob, EncryptionContext) };
    },
  };

  const keyArn = createKey();
  return {
    keyArn,
    calls,
    client,
    clientProvider: () => client,
    createKey,
    setKeyEnabled(arn, enabled) {
      const key = keys.get(arn);
      if (key) key.enabled = enabled;
    },
    setUnavailable(value) {
      unavailable = value;
    },
    resetCalls() {
      calls.generateDataKey = 0;
      calls.encrypt = 0;
      calls.decrypt = 0;
    },
  };
}
