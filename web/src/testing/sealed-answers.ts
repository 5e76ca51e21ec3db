/**
 * Test helpers: a key store in memory (Node has no IndexedDB), access tokens shaped like Cognito's,
 * and answers sealed exactly as the functions seal them — with the stock Encryption SDK for Node.js
 * and the public seal key taken from the request's proof — so the tests prove the browser opens
 * what the server side writes.
 */
import { createPublicKey } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { proofOfPossession, sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint, decodeJwt, type JWK, UnsecuredJWT } from "jose";
import type { KeyStore, SealJwk, StoredKeys } from "../api/session-keys.ts";

/** A key store in memory; `entries` shows what it holds. */
export function memoryKeyStore(): KeyStore & { readonly entries: Map<string, StoredKeys> } {
  const entries = new Map<string, StoredKeys>();
  return {
    entries,
    get: async (user) => entries.get(user),
    set: async (user, keys) => {
      entries.set(user, keys);
    },
    clear: async () => entries.clear(),
  };
}

/** An access token with the claims the app reads (unsigned: only the API verifies tokens). */
export function accessTokenFor(user: string, session = `session-of-${user}`): string {
  return new UnsecuredJWT({ sub: user, username: user, origin_jti: session, token_use: "access" }).encode();
}

const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

export interface SealOptions {
  /** Default: the answer context for `jti`. */
  readonly context?: Record<string, string>;
  readonly suiteId?: AlgorithmSuiteIdentifier;
  readonly frameLength?: number;
}

/** Seals `plaintext` to the seal key `sek` as the answer to the proof `jti`, as the functions do. */
export async function seal(
  plaintext: Uint8Array | string,
  sek: SealJwk | JWK,
  jti: string,
  options: SealOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const keyring = new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: await calculateJwkThumbprint(sek as JWK),
    rsaKey: {
      publicKey: createPublicKey({ key: sek as JWK & { kty: "RSA" }, format: "jwk" })
        .export({ type: "spki", format: "pem" })
        .toString(),
    },
    oaepHash: "sha256",
  });
  const { result } = await client.encrypt(keyring, plaintext, {
    encryptionContext: options.context ?? {
      [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
      [sealedAnswer.contextProofKey]: jti,
    },
    suiteId: options.suiteId ?? AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    ...(options.frameLength ? { frameLength: options.frameLength } : {}),
  });
  return new Uint8Array(result) as Uint8Array<ArrayBuffer>;
}

/** The `jti` and `sek` of the DPoP proof in request headers. */
export function proofOf(headers: HeadersInit | undefined): { jti: string; sek: SealJwk } {
  const jwt = new Headers(headers).get(proofOfPossession.header);
  if (!jwt) throw new Error("the request carries no proof");
  const claims = decodeJwt(jwt);
  return { jti: String(claims.jti), sek: claims[proofOfPossession.sealKeyClaim] as SealJwk };
}

export interface SealedResponseOptions extends SealOptions {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** The plaintext's type. Default: JSON. */
  readonly type?: string;
  /** Binary body (image downloads) instead of base64. */
  readonly streamed?: boolean;
  /** Seal to this key instead of the proof's. */
  readonly sek?: SealJwk | JWK;
  /** Seal for this proof instead of the request's. */
  readonly jti?: string;
}

/** The sealed answer the API gives to a request with these headers. */
export async function sealedResponse(
  requestHeaders: HeadersInit | undefined,
  body: unknown,
  options: SealedResponseOptions = {},
): Promise<Response> {
  const proof = proofOf(requestHeaders);
  const type = options.type ?? "application/json";
  const plaintext = body instanceof Uint8Array ? body : JSON.stringify(body);
  const message = await seal(plaintext, options.sek ?? proof.sek, options.jti ?? proof.jti, options);
  return new Response(options.streamed ? message : Buffer.from(message).toString("base64"), {
    status: options.status ?? 200,
    headers: {
      "content-type": options.streamed ? sealedAnswer.streamContentType : sealedAnswer.contentType,
      [sealedAnswer.plaintextTypeHeader]: type,
      ...options.headers,
    },
  });
}
