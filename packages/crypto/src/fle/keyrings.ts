/**
 * FLE keyrings, one per (key, provider id, key name), built on first use and cached: the PEM is parsed
 * once, so a field costs the RSA decrypt and not a key parse. Decryption goes through the SDK's
 * `RawRsaKeyringNode` (RSA-OAEP with SHA-256 and MGF1-SHA-256, as CloudFront wraps data keys) behind a
 * materials manager that admits only CloudFront's suite; encryption (the local CloudFront) through the
 * same keyring with the public key.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import {
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from "@aws-crypto/material-management-node";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { CryptoConfigError, EncryptError, FleDecryptError } from "../errors.ts";
import { fleSuite } from "../suites.ts";

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
const decryptManagers = new Map<string, Map<string, NodeMaterialsManager>>();
const encryptKeyrings = new Map<string, Map<string, RawRsaKeyringNode>>();

/** Looks up by PEM, then by names; the oldest entry goes once a level holds `maxCachedKeys`. */
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

/**
 * The materials manager that decrypts FLE values for `key`: CloudFront's suite only (0x0178: any other,
 * committing and signed ones included, is refused before the RSA work), then the raw RSA keyring, which
 * unwraps only a data key of this provider id and key name. Throws `CryptoConfigError` for a bad key.
 */
export function fleDecryptManager(key: FleDecryptKey): NodeMaterialsManager {
  checkNames(key?.providerId, key?.keyName);
  return remember(decryptManagers, key.privateKeyPem, `${key.providerId}\0${key.keyName}`, () => {
    const privateKey = rsaKey(() => createPrivateKey(key.privateKeyPem), "privateKeyPem");
    const keyring = new RawRsaKeyringNode({
      keyNamespace: key.providerId,
      keyName: key.keyName,
      rsaKey: { privateKey: privateKey as never },
      oaepHash: "sha256",
    });
    const backing = new NodeDefaultCryptographicMaterialsManager(keyring);
    return {
      getEncryptionMaterials: () => Promise.reject(new EncryptError("FLE keys only decrypt here")),
      decryptMaterials: async (request) => {
        if (request.suite.id !== fleSuite) throw new FleDecryptError("unsupportedSuite");
        if (Object.keys(request.encryptionContext).length > 0) throw new FleDecryptError("undecryptable");
        return backing.decryptMaterials(request);
      },
    };
  });
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
