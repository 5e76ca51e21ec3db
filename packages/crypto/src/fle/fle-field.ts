/**
 * One CloudFront field-level-encrypted value: decrypt (handlers) and encrypt (the local CloudFront).
 * Both use the Encryption SDK with a raw RSA-OAEP-SHA256 keyring, as CloudFront does.
 */
import { buildEncrypt } from "@aws-crypto/encrypt-node";
import { CommitmentPolicy, SignaturePolicy } from "@aws-crypto/material-management-node";
import {
  CiphertextError,
  CryptoConfigError,
  CryptoError,
  EncryptError,
  FleDecryptError,
  FleFormatError,
} from "../errors.ts";
import { fleSuite } from "../suites.ts";
import { decodeTolerantBase64, encodeBase64, looksLikeEsdkMessage } from "./base64.ts";
import { openFleBody, readFleMessage, unwrapFleDataKey } from "./fle-message.ts";
import { type FleDecryptKey, type FleEncryptKey, fleEncryptKeyring, fleUnwrapKey } from "./keyrings.ts";

/** Largest FLE message accepted: a 16 KB field plus header and framing fits with room to spare. */
export const maxFleMessageBytes = 64 * 1024;

// CloudFront writes suite 0x0178 (no key commitment): only the policy that allows decrypting
// non-committing messages can read it. Used for FLE only; envelope encryption requires commitment.
// Signed suites are refused outright (and by readFleMessage, which admits 0x0178 only).
const fleDecryptOptions = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
  signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_FORBID_DECRYPT,
  maxEncryptedDataKeys: 1,
  maxBodySize: maxFleMessageBytes,
} as const;
// Writing 0x0178 as CloudFront does needs a policy that permits non-committing encryption. Built on
// first use: only the local CloudFront encrypts, and a call at module level could not be tree-shaken,
// keeping the SDK's stream client in every bundle that decrypts FLE (the records handler).
let fleEncryptClient: ReturnType<typeof buildEncrypt> | undefined;
const encryptClient = () =>
  (fleEncryptClient ??= buildEncrypt({
    commitmentPolicy: CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
    maxEncryptedDataKeys: 1,
  }));

/** Decrypts FLE message bytes; `field` only labels errors. */
export async function decryptFleMessage(
  message: Uint8Array,
  key: FleDecryptKey,
  field?: string,
): Promise<Uint8Array> {
  return decryptFleMessageSync(message, key, field);
}

/**
 * `decryptFleMessage` without the promise: the work is CPU-bound and synchronous, and a form decrypts
 * seven values in a row.
 */
export function decryptFleMessageSync(message: Uint8Array, key: FleDecryptKey, field?: string): Buffer {
  return decryptFleMessagesSync([{ message, field }], key)[0] as Buffer;
}

/** One FLE message of a batch; `field` only labels errors. */
export interface FleMessageInput {
  readonly message: Uint8Array;
  readonly field?: string | undefined;
}

/** An error of one FLE value as the callers see it: the reason, labelled with the field. */
function fleError(err: unknown, field: string | undefined): unknown {
  if (err instanceof FleDecryptError) return new FleDecryptError(err.reason, field);
  if (err instanceof CiphertextError || !(err instanceof CryptoError)) {
    return new FleDecryptError(
      err instanceof CiphertextError && err.reason === "unsupportedSuite"
        ? "unsupportedSuite"
        : "undecryptable",
      field,
    );
  }
  return err;
}

/**
 * Decrypts several FLE messages with one key, in three passes: every header is read and checked, then
 * every data key unwrapped, then every body opened. Each RSA decrypt runs right after another, with its
 * code and key tables still in the CPU caches; interleaved with the symmetric work of each value they
 * cost measurably more (bench/crypto.ts). Nothing is unwrapped unless every header passes, and every
 * unwrapped data key is zeroed whatever fails. Throws the first failure, labelled with its field.
 */
export function decryptFleMessagesSync(messages: readonly FleMessageInput[], key: FleDecryptKey): Buffer[] {
  if (messages.length === 0) return []; // nothing to open: the key is not needed, as before batching
  for (const { message, field } of messages) {
    if (message.byteLength > maxFleMessageBytes) throw new FleFormatError("tooLarge", field);
    if (!looksLikeEsdkMessage(message)) throw new FleFormatError("notFleMessage", field);
  }
  const unwrapKey = fleUnwrapKey(key);
  const sealed = messages.map(({ message, field }) => {
    try {
      return readFleMessage(message, unwrapKey, fleDecryptOptions);
    } catch (err) {
      throw fleError(err, field);
    }
  });
  const dataKeys: Buffer[] = [];
  try {
    for (const [i, one] of sealed.entries()) {
      try {
        dataKeys.push(unwrapFleDataKey(one, unwrapKey));
      } catch (err) {
        throw fleError(err, messages[i]?.field);
      }
    }
    return sealed.map((one, i) => {
      try {
        return openFleBody(one, dataKeys[i] as Buffer, fleDecryptOptions);
      } catch (err) {
        throw fleError(err, messages[i]?.field);
      }
    });
  } finally {
    for (const dataKey of dataKeys) dataKey.fill(0);
  }
}

/**
 * Decrypts one CloudFront FLE value (base64 of an Encryption SDK message) to its plaintext bytes.
 * Tolerates transport damage to the base64 (see `decodeTolerantBase64`). Throws `FleFormatError` for
 * a value that is not an FLE message, `FleDecryptError` when the key, names or bytes do not fit.
 */
export async function decryptFleField(ciphertextBase64: string, key: FleDecryptKey): Promise<Uint8Array> {
  if (typeof ciphertextBase64 !== "string") throw new CryptoConfigError("ciphertextBase64 must be a string");
  if (ciphertextBase64.length > (maxFleMessageBytes * 4) / 3 + 8) throw new FleFormatError("tooLarge");
  const message = decodeTolerantBase64(ciphertextBase64);
  if (!message) throw new FleFormatError("badBase64");
  return decryptFleMessage(message, key);
}

const utf8 = new TextEncoder();

/**
 * Encrypts one value exactly as CloudFront FLE does: message format v1, suite 0x0178
 * (AES-256-GCM, HKDF-SHA256, no commitment, no signature), data key wrapped with RSA-OAEP-SHA256,
 * returned as padded base64 (its bytes start `01 80 01 78`).
 */
export async function encryptFleField(plaintext: string | Uint8Array, key: FleEncryptKey): Promise<string> {
  const bytes = typeof plaintext === "string" ? utf8.encode(plaintext) : plaintext;
  if (!(bytes instanceof Uint8Array)) throw new CryptoConfigError("plaintext must be a string or Uint8Array");
  const keyring = fleEncryptKeyring(key);
  try {
    const { result } = await encryptClient().encrypt(keyring, bytes, { suiteId: fleSuite });
    return encodeBase64(result);
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw new EncryptError("FLE encryption failed");
  }
}
