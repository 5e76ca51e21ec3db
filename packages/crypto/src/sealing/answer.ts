/**
 * Sealed answers: every answer body the functions send is one Encryption SDK message, encrypted to the
 * browser's sealing key (raw RSA keyring, RSA-OAEP-SHA256) with the committing unsigned suite, bound by
 * its encryption context to the proof of the request it answers. Only the browser's non-extractable
 * private key opens it; CloudFront, Lambda@Edge, API Gateway and their logs carry ciphertext.
 */
import type { JsonWebKey } from "node:crypto";
import type { Duplex } from "node:stream";
import { AlgorithmSuiteIdentifier, CommitmentPolicy } from "@aws-crypto/material-management-node";
import { sealedAnswer } from "@veil/core";
import { CryptoConfigError, EncryptError } from "../errors.ts";
import { buildClient } from "../esdk-client.ts";
import { sealKey } from "./seal-key.ts";

/** Frames of a sealed answer (`sealedAnswer.frameLength` of the contract). */
export const sealFrameLength = sealedAnswer.frameLength;
/** The suite of a sealed answer, by the contract's name. */
const sealSuite = AlgorithmSuiteIdentifier[sealedAnswer.algorithmSuite];
/** The longest proof `jti` accepted into a context (a random id of ≥ 128 bits is 22 characters). */
const maxJtiLength = 256;
const jtiPattern = /^[\x21-\x7e]+$/;

let client: ReturnType<typeof buildClient> | undefined;
const esdk = () => {
  client ??= buildClient({
    commitmentPolicy: CommitmentPolicy[sealedAnswer.commitmentPolicy],
    maxEncryptedDataKeys: 1,
  });
  return client;
};

/** The encryption context of an answer to the request whose proof carried `proofJti`. */
export function answerContext(proofJti: string): Record<string, string> {
  if (typeof proofJti !== "string" || proofJti.length > maxJtiLength || !jtiPattern.test(proofJti)) {
    throw new CryptoConfigError("proof jti must be 1-256 printable ASCII characters");
  }
  return {
    [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
    [sealedAnswer.contextProofKey]: proofJti,
  };
}

/**
 * Seals a buffered answer to the browser's key. Throws `SealKeyError` for a key that breaks the
 * contract, `CryptoConfigError` for a bad jti, `EncryptError` otherwise.
 *
 * @example
 * const message = await sealAnswer(Buffer.from(JSON.stringify(body)), caller.sealKey, caller.proof.jti);
 * return { statusCode: 200, body: Buffer.from(message).toString("base64"), headers: { "content-type": sealedAnswer.contentType } };
 */
export async function sealAnswer(
  plaintext: Uint8Array,
  sealKeyJwk: JsonWebKey,
  proofJti: string,
): Promise<Uint8Array> {
  const encryptionContext = answerContext(proofJti);
  const key = await sealKey(sealKeyJwk);
  try {
    const { result } = await esdk().encrypt(key.cmm, plaintext, {
      encryptionContext,
      suiteId: sealSuite,
      frameLength: sealFrameLength,
      plaintextLength: plaintext.byteLength,
    });
    return result;
  } catch {
    throw new EncryptError("sealing the answer failed");
  }
}

/**
 * A stream that seals what is written to it (the stock SDK's `encryptStream`, 64 KiB frames): pipe the
 * plaintext in, the message out. The key is checked before the stream exists, so a refused key fails
 * before anything is sent. The stream errors with the SDK's own error.
 *
 * @example
 * const seal = await sealAnswerStream(caller.sealKey, caller.proof.jti);
 * await pipeline(plaintext, seal, response);
 */
export async function sealAnswerStream(sealKeyJwk: JsonWebKey, proofJti: string): Promise<Duplex> {
  const encryptionContext = answerContext(proofJti);
  const key = await sealKey(sealKeyJwk);
  return esdk().encryptStream(key.cmm, {
    encryptionContext,
    suiteId: sealSuite,
    frameLength: sealFrameLength,
  }) as unknown as Duplex;
}
