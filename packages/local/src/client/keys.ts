/**
 * The two key pairs of one sign-in session, made with WebCrypto as the browser makes them: an ES256
 * proof key (DPoP) and an RSA-OAEP-256 seal key (answers are encrypted to it).
 */
import { KeyObject, type webcrypto } from "node:crypto";
import { sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from "jose";

/** One session's keys and the public halves the proofs carry. */
export interface SessionKeys {
  readonly proof: CryptoKeyPair;
  readonly seal: CryptoKeyPair;
  /** The proof public key as a JWK (the proof header's `jwk`). */
  readonly proofJwk: JWK;
  /** The seal public key as the proofs' `sek` claim: `{ kty, n, e, alg: "RSA-OAEP-256", use: "enc" }`. */
  readonly sealJwk: JWK;
  /** RFC 7638 thumbprint of `sealJwk`: the key name of the answers' raw RSA keyring. */
  readonly sealKeyName: string;
  /** RFC 7638 thumbprint of `proofJwk`: what the server binds the session to (`jkt`). */
  readonly proofThumbprint: string;
}

/** Options of `createSessionKeys`. */
export interface SessionKeyOptions {
  /**
   * Make the private halves extractable, so `exportSessionKeys` can hand them to another process (the
   * benchmark's load process). Default false, as in the browser.
   */
  readonly extractable?: boolean;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

const sealParams: webcrypto.RsaHashedKeyGenParams = {
  name: "RSA-OAEP",
  modulusLength: sealedAnswer.rsaModulusBits,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

async function describe(proof: CryptoKeyPair, seal: CryptoKeyPair): Promise<SessionKeys> {
  const { kty, crv, x, y } = await exportJWK(proof.publicKey);
  const proofJwk: JWK = { kty, crv, x, y };
  const { n, e } = await exportJWK(seal.publicKey);
  const sealJwk: JWK = { kty: "RSA", n, e, alg: "RSA-OAEP-256", use: "enc" };
  return {
    proof,
    seal,
    proofJwk,
    sealJwk,
    sealKeyName: await calculateJwkThumbprint(sealJwk, "sha256"),
    proofThumbprint: await calculateJwkThumbprint(proofJwk, "sha256"),
  };
}

/**
 * Makes a session's key pairs with `globalThis.crypto.subtle`: ECDSA P-256 for proofs and RSA-OAEP
 * 3072-bit with SHA-256 for sealed answers; private halves non-extractable unless asked otherwise.
 *
 * @example
 * const keys = await createSessionKeys();
 * keys.sealKeyName; // the thumbprint the function names its keyring after
 */
export async function createSessionKeys(options: SessionKeyOptions = {}): Promise<SessionKeys> {
  const extractable = options.extractable ?? false;
  const subtle = globalThis.crypto.subtle;
  const [proof, seal] = await Promise.all([
    subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, extractable, ["sign", "verify"]),
    subtle.generateKey(sealParams, extractable, ["encrypt", "decrypt"]),
  ]);
  return describe(proof, seal);
}

/** A session's private keys as JWKs, to hand to another process; needs `extractable: true` keys. */
export interface ExportedSessionKeys {
  readonly proof: JWK;
  readonly seal: JWK;
}

/** Exports extractable session keys (see `createSessionKeys`); throws for non-extractable ones. */
export async function exportSessionKeys(keys: SessionKeys): Promise<ExportedSessionKeys> {
  return { proof: await exportJWK(keys.proof.privateKey), seal: await exportJWK(keys.seal.privateKey) };
}

/** The inverse of `exportSessionKeys`; the imported private halves are non-extractable. */
export async function importSessionKeys(exported: ExportedSessionKeys): Promise<SessionKeys> {
  const pair = async (jwk: JWK, alg: string): Promise<CryptoKeyPair> => {
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
    return {
      privateKey: (await importJWK({ ...jwk, alg }, alg, { extractable: false })) as CryptoKey,
      publicKey: (await importJWK({ ...pub, alg }, alg, { extractable: true })) as CryptoKey,
    };
  };
  return describe(await pair(exported.proof, "ES256"), await pair(exported.seal, "RSA-OAEP-256"));
}

/**
 * The seal private key as a node:crypto `KeyObject` for the Encryption SDK's `RawRsaKeyringNode`
 * (which takes no CryptoKey). Node hands out a CryptoKey's key object whether or not it is extractable;
 * the browser's keys stay non-extractable and its SDK uses the CryptoKey itself.
 */
export function sealPrivateKeyObject(keys: SessionKeys): KeyObject {
  return KeyObject.from(keys.seal.privateKey);
}
