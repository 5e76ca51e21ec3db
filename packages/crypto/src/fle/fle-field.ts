/**
 * One CloudFront field-level-encrypted value: decrypt (handlers) and encrypt (the local CloudFront),
 * both through the Encryption SDK client with a raw RSA keyring (RSA-OAEP-SHA256), as CloudFront does.
 */
import { CommitmentPolicy } from "@aws-crypto/material-management-node";
import { fleLimits } from "@veil/core";
import { CryptoConfigError, CryptoError, EncryptError, FleDecryptError, FleFormatError } from "../errors.ts";
import { buildClient, type EsdkClient } from "../esdk-client.ts";
import { fleSuite } from "../suites.ts";
import {
  assertCloudFrontShape,
  decodeFleValue,
  maxFleMessageBytes,
  maxFleValueChars,
  readMessageHeader,
} from "./fle-value.ts";
import { type FleDecryptKey, type FleEncryptKey, fleDecryptManager, fleEncryptKeyring } from "./keyrings.ts";

export { maxFleMessageBytes };

// CloudFront writes suite 0x0178 (no key commitment): only a policy that allows decrypting
// non-committing messages reads it. FLE only; envelope encryption requires commitment. Writing 0x0178
// as CloudFront does needs the policy that permits non-committing encryption (the local CloudFront).
// Both clients are built on first use.
let decryptClient: EsdkClient | undefined;
let encryptClient: EsdkClient | undefined;
const fleDecryptClient = () =>
  (decryptClient ??= buildClient({
    commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
    maxEncryptedDataKeys: 1,
  }));
const fleEncryptClient = () =>
  (encryptClient ??= buildClient({
    commitmentPolicy: CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    maxEncryptedDataKeys: 1,
  }));

/** An error of one FLE value as the callers see it: typed, labelled with the field, quoting nothing. */
function fleError(err: unknown, field: string | undefined): CryptoError {
  if (err instanceof FleDecryptError) return new FleDecryptError(err.reason, field);
  if (err instanceof CryptoError) return err;
  const message = err instanceof Error ? err.message : "";
  return new FleDecryptError(
    /suite|Configuration conflict/i.test(message) ? "unsupportedSuite" : "undecryptable",
    field,
  );
}

/**
 * Decrypts the FLE message `bytes` (whose header passed `assertCloudFrontShape`) with `key`. Frames
 * are bounded by CloudFront's field size; `field` only labels errors.
 */
export async function openFleMessage(bytes: Uint8Array, key: FleDecryptKey, field?: string): Promise<Buffer> {
  const manager = fleDecryptManager(key);
  try {
    const { plaintext } = await fleDecryptClient().decrypt(manager, bytes, {
      maxBodySize: fleLimits.maxFieldBytes,
    });
    return plaintext;
  } catch (err) {
    throw fleError(err, field);
  }
}

/**
 * Decrypts one CloudFront FLE value (base64 of an Encryption SDK message) to its plaintext bytes.
 * Tolerates transport damage to the base64 (a `+` turned into a space, the url-safe alphabet, stripped
 * padding, line breaks). Throws `FleFormatError` for a value that is not an FLE message,
 * `FleDecryptError` when the key, names, suite or bytes do not fit.
 *
 * @example
 * const key = { privateKeyPem, providerId: "veil-fle", keyName: "veil-fle-key-1" };
 * const plaintext = Buffer.from(await decryptFleField(value, key)).toString("utf8");
 */
export async function decryptFleField(ciphertextBase64: string, key: FleDecryptKey): Promise<Uint8Array> {
  if (typeof ciphertextBase64 !== "string") throw new CryptoConfigError("ciphertextBase64 must be a string");
  if (ciphertextBase64.length > maxFleValueChars) throw new FleFormatError("tooLarge");
  const bytes = decodeFleValue(ciphertextBase64);
  if (!bytes) throw new FleFormatError("badBase64");
  if (bytes.byteLength > maxFleMessageBytes) throw new FleFormatError("tooLarge");
  const header = readMessageHeader(bytes);
  if (!header) throw new FleFormatError("notFleMessage");
  fleDecryptManager(key); // a bad key is a configuration error, whatever the value
  assertCloudFrontShape(header);
  return openFleMessage(bytes, key);
}

const utf8 = new TextEncoder();

/**
 * Encrypts one value exactly as CloudFront FLE does: message format v1, suite 0x0178
 * (AES-256-GCM, HKDF-SHA256, no commitment, no signature), data key wrapped with RSA-OAEP-SHA256,
 * returned as padded base64 (its bytes start `01 80 01 78`).
 *
 * @example
 * const value = await encryptFleField("Ada Lovelace", { publicKeyPem, providerId, keyName });
 */
export async function encryptFleField(plaintext: string | Uint8Array, key: FleEncryptKey): Promise<string> {
  const bytes = typeof plaintext === "string" ? utf8.encode(plaintext) : plaintext;
  if (!(bytes instanceof Uint8Array)) throw new CryptoConfigError("plaintext must be a string or Uint8Array");
  const keyring = fleEncryptKeyring(key);
  try {
    const { result } = await fleEncryptClient().encrypt(keyring, bytes, { suiteId: fleSuite });
    return result.toString("base64");
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new EncryptError("FLE encryption failed");
  }
}
