/**
 * The browser's sealing key: an RSA-OAEP-256 public key as a JWK, checked strictly before any use, and
 * the Encryption SDK keyring that wraps answer data keys to it. Keyrings are cached per RFC 7638
 * thumbprint in a small LRU, so a warm function parses a returning browser's key once.
 */
import { createPublicKey } from "node:crypto";
import {
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from "@aws-crypto/material-management-node";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import { sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint } from "jose";
import { SealKeyError } from "../errors.ts";

/** A checked sealing key: its thumbprint (the keyring's key name) and the materials manager sealing to it. */
export interface SealKey {
  readonly thumbprint: string;
  readonly cmm: NodeMaterialsManager;
}

const base64url = /^[A-Za-z0-9_-]+$/;
const privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
/** How many keys a warm function keeps: one per browser session it served lately. */
const maxCachedKeys = 64;
const cache = new Map<string, SealKey>();

/** The public members the thumbprint and the key are built from, after the contract's checks. */
function checked(jwk: unknown): { kty: "RSA"; n: string; e: string } {
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) throw new SealKeyError("notAnObject");
  const key = jwk as Record<string, unknown>;
  if (privateMembers.some((m) => m in key)) throw new SealKeyError("privateKey");
  if (key.kty !== "RSA" || key.alg !== "RSA-OAEP-256") throw new SealKeyError("notRsaOaep256");
  if (key.use !== undefined && key.use !== "enc") throw new SealKeyError("notRsaOaep256");
  if (key.e !== "AQAB") throw new SealKeyError("badExponent");
  const n = key.n;
  if (typeof n !== "string" || !base64url.test(n)) throw new SealKeyError("badModulus");
  const modulus = Buffer.from(n, "base64url");
  // Exactly the contract's size, in its one minimal encoding: no leading zero byte, top bit set.
  if (
    modulus.length * 8 !== sealedAnswer.rsaModulusBits ||
    modulus.toString("base64url") !== n ||
    (modulus[0] ?? 0) < 0x80
  ) {
    throw new SealKeyError("badModulus");
  }
  return { kty: "RSA", n, e: "AQAB" };
}

/**
 * Checks a sealing key against the contract (kty RSA, alg RSA-OAEP-256, a 3072-bit modulus, e = 65537,
 * public members only) and returns its RFC 7638 thumbprint. Throws `SealKeyError`.
 *
 * @example
 * const thumbprint = await sealKeyThumbprint(proof.sek); // "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
 */
export async function sealKeyThumbprint(jwk: unknown): Promise<string> {
  return calculateJwkThumbprint(checked(jwk), "sha256");
}

/** The checked key with its cached materials manager (raw RSA keyring, OAEP-SHA256, public key only). */
export async function sealKey(jwk: unknown): Promise<SealKey> {
  const members = checked(jwk);
  const thumbprint = await calculateJwkThumbprint(members, "sha256");
  const hit = cache.get(thumbprint);
  if (hit) {
    cache.delete(thumbprint);
    cache.set(thumbprint, hit);
    return hit;
  }
  let publicKey: ReturnType<typeof createPublicKey>;
  try {
    publicKey = createPublicKey({ key: members, format: "jwk" });
  } catch {
    throw new SealKeyError("badModulus");
  }
  if (publicKey.asymmetricKeyDetails?.modulusLength !== sealedAnswer.rsaModulusBits) {
    throw new SealKeyError("badModulus");
  }
  const keyring = new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: thumbprint,
    rsaKey: { publicKey: publicKey as never },
    oaepHash: "sha256",
  });
  const key: SealKey = { thumbprint, cmm: new NodeDefaultCryptographicMaterialsManager(keyring) };
  if (cache.size >= maxCachedKeys) cache.delete(cache.keys().next().value as string);
  cache.set(thumbprint, key);
  return key;
}

/** How many sealing keys are cached (for tests). */
export function cachedSealKeys(): number {
  return cache.size;
}
