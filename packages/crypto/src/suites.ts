/**
 * The algorithm suites this package uses, by intent rather than by number. See README "Algorithm suite"
 * for why `unsigned` is the default.
 */
import { AlgorithmSuiteIdentifier } from "@aws-crypto/material-management-node";

/** `unsigned`: AES-256-GCM, HKDF-SHA512, key commitment. `signed`: the same plus ECDSA P-384. */
export type EnvelopeSuite = "unsigned" | "signed";

export const envelopeSuites: Readonly<Record<EnvelopeSuite, AlgorithmSuiteIdentifier>> = {
  unsigned: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  signed: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
};

/** Suites an envelope decrypt accepts: only committing ones (both, so the choice can change later). */
export const envelopeDecryptSuites: ReadonlySet<number> = new Set(Object.values(envelopeSuites));

/**
 * The suite CloudFront field-level encryption writes: message format v1, AES-256-GCM, HKDF-SHA256,
 * no key commitment, no signature (0x0178). The only suite FLE decrypt accepts.
 */
export const fleSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256;
