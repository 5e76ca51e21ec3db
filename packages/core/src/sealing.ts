/**
 * The contract between the browser and the functions for proof-of-possession (RFC 9449 DPoP) and
 * sealed answers: every request carries a proof made with a key only the browser holds, and every
 * answer with a body is encrypted inside the function to the browser's public key, so that CloudFront,
 * Lambda@Edge, API Gateway and their logs carry ciphertext in both directions.
 */
export const proofOfPossession = {
  /** The request header carrying the DPoP proof JWT. */
  header: "dpop",
  /** The proof JWT's `typ`. */
  type: "dpop+jwt",
  /** The one signature algorithm accepted for proofs (ECDSA P-256). */
  algorithm: "ES256",
  /** The proof claim carrying the browser's public sealing key (a JWK, RSA-OAEP-256). */
  sealKeyClaim: "sek",
  /** How old (`iat`) a proof may be, and how far ahead of the function's clock. */
  maxAgeSeconds: 60,
  maxFutureSeconds: 5,
  /** How long a proof's `jti` is remembered to refuse a replay (longer than `maxAgeSeconds`). */
  replayWindowSeconds: 120,
  /**
   * How long an account erasure's revocation markers are kept: longer than any access token issued
   * before the erasure can still verify (the app client's access-token validity, 15 min deployed and
   * 60 min locally, plus clock skew). A shorter value would let such a token bind again.
   */
  revocationSeconds: 2 * 3600,
  /** Set by the CloudFront viewer-request function from the viewer's `Host`: the proof's `htu` host. */
  viewerHostHeader: "x-veil-viewer-host",
} as const;

/** How answers are sealed: one Encryption SDK message, raw RSA keyring, OAEP-SHA256. */
export const sealedAnswer = {
  /** Buffered answers: the body is the base64 of the message. */
  contentType: "application/vnd.veil.sealed+base64",
  /** Streamed answers (image downloads): the body is the binary message. */
  streamContentType: "application/vnd.veil.sealed",
  /** The media type of the sealed plaintext. */
  plaintextTypeHeader: "x-veil-sealed-type",
  /** Raw RSA keyring namespace; the key name is the RFC 7638 thumbprint of the sealing key. */
  keyNamespace: "veil-answer",
  /** Encryption context: the format version, and the `jti` of the proof of the request answered. */
  contextVersionKey: "veil-answer",
  contextVersion: "1",
  contextProofKey: "veil-proof",
  /** The browser's sealing key: RSA-OAEP with SHA-256, this modulus length. */
  rsaModulusBits: 3072,
  /** The Encryption SDK's name of the suite answers are sealed with (committing, unsigned). */
  algorithmSuite: "ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY",
  /** The Encryption SDK's commitment policy on both sides: only committing messages are made or opened. */
  commitmentPolicy: "REQUIRE_ENCRYPT_REQUIRE_DECRYPT",
  /** Plaintext bytes per frame: one frame for any buffered answer, 64 KiB at a time for a stream. */
  frameLength: 64 * 1024,
} as const;
