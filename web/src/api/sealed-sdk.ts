/**
 * What opening sealed answers uses of the Encryption SDK for browsers, in a module of its own so that
 * `sealed.ts` loads it with the first request and a bundler keeps only these parts.
 */
import { AlgorithmSuiteIdentifier, buildClient, CommitmentPolicy } from "@aws-crypto/client-browser";

export { RawRsaKeyringWebCrypto } from "@aws-crypto/client-browser";

/** Answers are sealed with the committing suite without signature, one data key for one browser. */
export const answerSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

export const client = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});
