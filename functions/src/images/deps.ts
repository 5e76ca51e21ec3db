/**
 * The dependencies of the image functions, each built from linked resources only when a function needs
 * it: the API function never sees the FLE private key, the download function never sees the inbox.
 * The database pool is the one of every function (../shared/database.ts).
 */
import { createPublicKey } from "node:crypto";
import { createEnvelopeCrypto, type EnvelopeCrypto } from "@veil/crypto";
import {
  createObjectStore,
  type ObjectStore,
  type UploadDecryptKey,
  type UploadPublicKey,
} from "@veil/storage";
import { loadFleKeys } from "../shared/fle-key.ts";
import { linked } from "../shared/resources.ts";

/**
 * The S3 object store. In AWS: the SDK's default endpoint and the function role. Locally:
 * `AWS_ENDPOINT_URL_S3` (path-style) and, when the S3 stand-in has its own users (Swift), their key
 * pair in `VEIL_S3_CREDENTIALS`.
 */
export function objectStore(): ObjectStore {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  const credentials = process.env.VEIL_S3_CREDENTIALS;
  return createObjectStore({
    region: process.env.AWS_REGION ?? "",
    ...(endpoint ? { endpoint } : {}),
    ...(credentials
      ? { credentials: JSON.parse(credentials) as { accessKeyId: string; secretAccessKey: string } }
      : {}),
  });
}

/** Envelope encryption with the records KMS key. */
export function envelope(): EnvelopeCrypto {
  const app = linked("App");
  return createEnvelopeCrypto({ app: app.name, stage: app.stage, kms: { keyId: linked("RecordsKey").arn } });
}

/** The FLE public key browsers encrypt uploads with, and its modulus size (for the signed length). */
export function uploadPublicKey(): UploadPublicKey & { readonly modulusBytes: number } {
  const key = linked("FlePublicKey");
  const bits = createPublicKey(key.pem).asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw new Error("FlePublicKey must be an RSA key of at least 2048 bits");
  return { pem: key.pem, providerId: key.providerId, keyName: key.keyName, modulusBytes: bits / 8 };
}

/** The FLE private key(s) from Secrets Manager: current first, previous while a rotation drains. */
export async function uploadDecryptKeys(): Promise<UploadDecryptKey[]> {
  const fle = linked("FleKey");
  const keys = await loadFleKeys(fle.secretArn, fle.providerId);
  return [keys.current, ...(keys.previous ? [keys.previous] : [])].map((k) => ({
    providerId: keys.providerId,
    keyName: k.keyName,
    privateKeyPem: k.privateKeyPem,
  }));
}

/** Memoises an async builder; a failed build is retried by the next call. */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= build().catch((err: unknown) => {
      value = undefined;
      throw err;
    });
    return value;
  };
}
