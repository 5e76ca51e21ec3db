/**
 * FLE keys, one per (key, provider id, key name), parsed once: PEM parsing would otherwise add to the
 * ~0.3 ms RSA private decrypt that every FLE field costs. Decryption uses the parsed private key
 * directly (fle-message.ts); encryption, for the local CloudFront, the SDK's `RawRsaKeyringNode`.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { CryptoConfigError } from "../errors.ts";

/** The private key and the names CloudFront's FLE profile gives it. */
export interface FleDecryptKey {
  /** PKCS#8 or PKCS#1 PEM of the RSA private key whose public half is registered with CloudFront. */
  readonly privateKeyPem: string;
  /** The FLE profile's provider ID (the Encryption SDK key namespace). */
  readonly providerId: string;
  /** The public key's name as registered in CloudFront (the Encryption SDK key name). */
  readonly keyName: string;
}

/** The public key and names, for encrypting as CloudFront does (the local CloudFront). */
export interface FleEncryptKey {
  readonly publicKeyPem: string;
  readonly providerId: string;
  readonly keyName: string;
}

const maxCachedKeys = 16;
// Keyed by the PEM string itself (then by names): V8 caches a string's hash, so a hit with the same
// configuration string costs no hashing of the key — this lookup runs once per FLE field.
const decryptKeys = new Map<string, Map<string, FleUnwrapKey>>();
const encryptKeyrings = new Map<string, Map<string, RawRsaKeyringNode>>();

function remember<T>(cache: Map<string, Map<string, T>>, pem: string, names: string, build: () => T): T {
  const hit = cache.get(pem)?.get(names);
  if (hit !== undefined) return hit;
  const value = build();
  let byNames = cache.get(pem);
  if (!byNames) {
    if (cache.size >= maxCachedKeys) cache.delete(cache.keys().next().value as string);
    byNames = new Map();
    cache.set(pem, byNames);
  }
  if (byNames.size >= maxCachedKeys) byNames.delete(byNames.keys().next().value as string);
  byNames.set(names, value);
  return value;
}

function checkNames(providerId: unknown, keyName: unknown): void {
  if (typeof providerId !== "string" || providerId === "" || typeof keyName !== "string" || keyName === "") {
    throw new CryptoConfigError("FLE providerId and keyName must be non-empty strings");
  }
}

function rsaKey(parse: () => KeyObject, what: string): KeyObject {
  let key: KeyObject;
  try {
    key = parse();
  } catch {
    throw new CryptoConfigError(`${what} is not a valid PEM key`);
  }
  if (key.asymmetricKeyType !== "rsa" || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new CryptoConfigError(`${what} must be an RSA key of at least 2048 bits`);
  }
  return key;
}

/** A parsed FLE private key with the names its messages must carry. */
export interface FleUnwrapKey {
  readonly privateKey: KeyObject;
  readonly providerId: string;
  readonly keyName: string;
}

/** The parsed private key for `key` (PEM parsed once, then cached); throws `CryptoConfigError`. */
export function fleUnwrapKey(key: FleDecryptKey): FleUnwrapKey {
  checkNames(key?.providerId, key?.keyName);
  return remember(decryptKeys, key.privateKeyPem, `${key.providerId}\0${key.keyName}`, () => ({
    privateKey: rsaKey(() => createPrivateKey(key.privateKeyPem), "privateKeyPem"),
    providerId: key.providerId,
    keyName: key.keyName,
  }));
}

/** The keyring encrypting FLE values for one public key. */
export function fleEncryptKeyring(key: FleEncryptKey): RawRsaKeyringNode {
  checkNames(key?.providerId, key?.keyName);
  return remember(encryptKeyrings, key.publicKeyPem, `${key.providerId}\0${key.keyName}`, () => {
    const publicKey = rsaKey(() => createPublicKey(key.publicKeyPem), "publicKeyPem");
    return new RawRsaKeyringNode({
      keyNamespace: key.providerId,
      keyName: key.keyName,
      rsaKey: { publicKey: publicKey as never },
      oaepHash: "sha256",
    });
  });
}
