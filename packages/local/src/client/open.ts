/**
 * Opens sealed answers with the stock Encryption SDK client: one message, raw RSA keyring named after
 * the seal key's thumbprint, committing suite only, and an encryption context that names the proof
 * of the request answered (so an answer cannot be replayed onto another request).
 */
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { sealedAnswer } from "@veil/core";
import { SealedAnswerError } from "./errors.ts";
import { type SessionKeys, sealPrivateKeyObject } from "./keys.ts";

const { decrypt } = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});
const expectedSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

/** The keyring that opens answers sealed to `keys` (the function encrypts with the public half). */
export function answerKeyring(keys: SessionKeys): RawRsaKeyringNode {
  return new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: keys.sealKeyName,
    rsaKey: { privateKey: sealPrivateKeyObject(keys) as never },
    oaepHash: "sha256",
  });
}

/** A sealed answer as it arrived. */
export interface SealedBody {
  /** `application/vnd.veil.sealed+base64` (base64 text) or `application/vnd.veil.sealed` (binary). */
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** True when a content type names a sealed answer (buffered or streamed). */
export function isSealed(contentType: string | null | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  return type === sealedAnswer.contentType || type === sealedAnswer.streamContentType;
}

/**
 * Opens one sealed answer for the request whose proof had `jti`. Throws `SealedAnswerError` when it is
 * not sealed, does not decrypt with this key, or its context is not `{ veil-answer: 1, veil-proof: jti }`.
 *
 * @example
 * const plaintext = await openAnswer(keys, { contentType, body }, proof.jti);
 */
export async function openAnswer(
  keys: SessionKeys,
  answer: SealedBody,
  jti: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const type = answer.contentType.split(";")[0]?.trim().toLowerCase();
  let message: Buffer;
  if (type === sealedAnswer.contentType) message = Buffer.from(Buffer.from(answer.body).toString(), "base64");
  else if (type === sealedAnswer.streamContentType) message = Buffer.from(answer.body);
  else throw new SealedAnswerError("unsealed");
  let opened: Awaited<ReturnType<typeof decrypt>>;
  try {
    opened = await decrypt(answerKeyring(keys), message);
  } catch (err) {
    throw new SealedAnswerError("undecryptable", { cause: err });
  }
  const { encryptionContext, suiteId } = opened.messageHeader;
  if (suiteId !== expectedSuite) throw new SealedAnswerError("wrongSuite");
  const names = Object.keys(encryptionContext).sort();
  const expected = [sealedAnswer.contextProofKey, sealedAnswer.contextVersionKey].sort();
  if (
    names.join("\0") !== expected.join("\0") ||
    encryptionContext[sealedAnswer.contextVersionKey] !== sealedAnswer.contextVersion ||
    encryptionContext[sealedAnswer.contextProofKey] !== jti
  )
    throw new SealedAnswerError("wrongContext");
  return new Uint8Array(opened.plaintext);
}
