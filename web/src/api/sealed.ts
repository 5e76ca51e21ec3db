/**
 * Opens sealed answers: one AWS Encryption SDK message per answer (raw RSA keyring, OAEP-SHA256, the
 * committing suite), encrypted inside the function to this session's seal key. The browser SDK
 * unwraps the data key with the non-extractable private key inside WebCrypto; the answer is accepted
 * only if its encryption context names the proof of the very request it answers.
 */
import { sealedAnswer } from "@veil/core";
import { NetworkError } from "./errors.ts";
import type { RawRsaKeyringWebCrypto } from "./sealed-sdk.ts";
import type { SessionKeys } from "./session-keys.ts";

let loading: Promise<typeof import("./sealed-sdk.ts")> | undefined;

/** The SDK, loaded once; `preloadOpener()` starts the download alongside the first request. */
function sealedSdk() {
  // The SDK's ASN.1 dependency loads the `buffer` package, which reads Node's `global` as it loads;
  // a browser has the same object as `globalThis`.
  (globalThis as { global?: unknown }).global ??= globalThis;
  loading ??= import("./sealed-sdk.ts").catch((err: unknown) => {
    loading = undefined; // a failed download is tried again with the next answer
    throw err;
  });
  return loading;
}

/** Starts loading the SDK without waiting for it (a failure surfaces when an answer is opened). */
export function preloadOpener(): void {
  sealedSdk().catch(() => undefined);
}

/** The message's own words for a refused answer; never shown, never carrying any of the answer. */
export class UnsealError extends Error {
  override readonly name = "UnsealError";
}

const keyrings = new WeakMap<SessionKeys, RawRsaKeyringWebCrypto>();

/**
 * Decrypts one sealed answer to `keys` and checks it answers the request whose proof had `jti`.
 * Throws `NetworkError` when the SDK could not be loaded, any other error when it is not such an
 * answer.
 *
 * @example
 * const json = new TextDecoder().decode(await openSealed(message, keys, proof.jti));
 */
export async function openSealed(message: Uint8Array, keys: SessionKeys, jti: string): Promise<Uint8Array> {
  const sdk = await sealedSdk().catch(() => {
    throw new NetworkError();
  });
  let keyring = keyrings.get(keys);
  if (!keyring) {
    keyring = new sdk.RawRsaKeyringWebCrypto({
      keyNamespace: sealedAnswer.keyNamespace,
      keyName: keys.sealKeyName,
      privateKey: keys.seal.privateKey,
    });
    keyrings.set(keys, keyring);
  }
  const { plaintext, messageHeader } = await sdk.client.decrypt(keyring, message);
  const context = messageHeader.encryptionContext;
  if (messageHeader.suiteId !== sdk.answerSuite) throw new UnsealError("unexpected algorithm suite");
  if (context[sealedAnswer.contextVersionKey] !== sealedAnswer.contextVersion) {
    throw new UnsealError("not a sealed answer");
  }
  if (context[sealedAnswer.contextProofKey] !== jti) throw new UnsealError("answers another request");
  return plaintext;
}

/** The bytes of a base64 body (buffered sealed answers). */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text.trim());
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
