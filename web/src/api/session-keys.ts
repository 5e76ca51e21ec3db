/**
 * The browser's key pairs of a sign-in session: a proof key (ECDSA P-256) that signs every request's
 * DPoP proof, and a seal key (RSA-OAEP-256, 3072 bits) the functions encrypt every answer to. Both are
 * made with WebCrypto with non-extractable private halves, kept in IndexedDB per user so a reload
 * keeps the session's keys (the API binds the proof key to the session on first use), and deleted at
 * sign-out. Never in localStorage: only IndexedDB stores a CryptoKey without exporting it.
 */
import { sealedAnswer } from "@veil/core";
import { createStore, clear as idbClear, get as idbGet, set as idbSet, type UseStore } from "idb-keyval";
import { calculateJwkThumbprint, decodeJwt, exportJWK, type JWK } from "jose";
import { SessionExpiredError } from "./errors.ts";

/** What is stored per user: the two key pairs and the session (the token's `origin_jti`) they serve. */
export interface StoredKeys {
  readonly session: string;
  readonly proof: CryptoKeyPair;
  readonly seal: CryptoKeyPair;
}

/** Where the key pairs live between page loads. */
export interface KeyStore {
  get(user: string): Promise<StoredKeys | undefined>;
  set(user: string, keys: StoredKeys): Promise<void>;
  /** Removes every user's keys. */
  clear(): Promise<void>;
}

/** The seal public key as the proof's `sek` claim carries it. */
export interface SealJwk {
  readonly kty: "RSA";
  readonly n: string;
  readonly e: string;
  readonly alg: "RSA-OAEP-256";
  readonly use: "enc";
}

/** The keys of one session, ready to sign proofs and open answers. */
export interface SessionKeys {
  readonly user: string;
  readonly session: string;
  readonly proof: CryptoKeyPair;
  readonly seal: CryptoKeyPair;
  /** The proof public key, for the proof's protected header. */
  readonly proofJwk: JWK;
  readonly sealJwk: SealJwk;
  /** RFC 7638 thumbprint of `sealJwk`: the key name answers are sealed under. */
  readonly sealKeyName: string;
  /**
   * The session began before this page was loaded and its stored keys were gone, so these were made
   * afresh: the API refuses another key for the same session, and a 401 then means exactly this.
   */
  readonly remade: boolean;
}

/** Hands out the keys of the session an access token belongs to. */
export interface SessionKeyring {
  /**
   * The key pairs for the session of `accessToken`: stored ones if they serve it, otherwise new ones.
   * Rejects with `SessionExpiredError` for a session this page has signed out of.
   */
  forToken(accessToken: string): Promise<SessionKeys>;
  /** A sign-in is under way in this page: keys made for the session it starts are expected. */
  signingIn(): void;
  /** Deletes every key pair of this browser (at sign-out); the sessions used so far get none again. */
  forget(): Promise<void>;
  /** The API answered a request signed with `keys`: the session is bound to them. */
  answered(keys: SessionKeys): void;
  /**
   * Whether the API is known to have bound the session to `keys`: it answered one of their requests,
   * or they were stored by an earlier page (a session whose first request failed was signed out).
   */
  isBound(keys: SessionKeys): boolean;
}

/** The key store in IndexedDB (its own database), opened on first use. */
export function indexedDbKeyStore(): KeyStore {
  let db: UseStore | undefined;
  const store = () => {
    db ??= createStore("veil-session-keys", "keys");
    return db;
  };
  return {
    get: (user) => idbGet<StoredKeys>(user, store()),
    set: (user, keys) => idbSet(user, keys, store()),
    clear: () => idbClear(store()),
  };
}

/** Makes the two key pairs; the private halves cannot be exported, not even by this page. */
export async function generateKeyPairs(subtle: SubtleCrypto = crypto.subtle) {
  const [proof, seal] = await Promise.all([
    subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]),
    subtle.generateKey(
      {
        name: "RSA-OAEP",
        modulusLength: sealedAnswer.rsaModulusBits,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: "SHA-256",
      },
      false,
      // The Encryption SDK unwraps the data key with the private key straight into WebCrypto.
      ["wrapKey", "unwrapKey"],
    ),
  ]);
  return { proof, seal };
}

/** Who and which sign-in session a token is for; not verified (the API does), only used to pick keys. */
export function sessionOf(accessToken: string): { user: string; session: string } {
  try {
    const claims = decodeJwt(accessToken);
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    return { user: str(claims.sub) || str(claims.username), session: str(claims.origin_jti) };
  } catch {
    return { user: "", session: "" };
  }
}

async function describeKeys(user: string, stored: StoredKeys, remade: boolean): Promise<SessionKeys> {
  const { kty, crv, x, y } = await exportJWK(stored.proof.publicKey);
  const { n, e } = await exportJWK(stored.seal.publicKey);
  if (!n || !e) throw new Error("the seal key has no RSA public key");
  const sealJwk: SealJwk = { kty: "RSA", n, e, alg: "RSA-OAEP-256", use: "enc" };
  return {
    user,
    session: stored.session,
    proof: stored.proof,
    seal: stored.seal,
    proofJwk: { kty, crv, x, y },
    sealJwk,
    sealKeyName: await calculateJwkThumbprint(sealJwk),
    remade,
  };
}

export interface SessionKeyringOptions {
  /** Default: IndexedDB. */
  readonly store?: KeyStore;
}

/**
 * Makes the keyring of this page. One keyring serves every API client of the page, so parallel
 * first requests share one key generation.
 *
 * @example
 * const keys = createSessionKeyring();
 * const call = createApiClient({ accessToken, keys });
 * // at sign-out
 * await keys.forget();
 */
export function createSessionKeyring(options: SessionKeyringOptions = {}): SessionKeyring {
  const store = options.store ?? indexedDbKeyStore();
  const loading = new Map<string, Promise<SessionKeys>>();
  // Sessions signed out of: a request still under way for one must not make and store keys again.
  const ended = new Set<string>();
  // Sessions the API has bound to this browser's keys (the first proof it sees binds the session).
  const bound = new Set<string>();
  let signInSeen = false;
  // Made while the sign-in's round trips are under way, for the session it starts.
  let pending: ReturnType<typeof generateKeyPairs> | undefined;

  async function load(user: string, session: string): Promise<SessionKeys> {
    // A store that cannot be read (storage blocked) is a store without keys: the session then lasts
    // as long as this page.
    const stored = await store.get(user).catch(() => undefined);
    if (stored && stored.session === session) {
      bound.add(`${user}\n${session}`);
      return describeKeys(user, stored, false);
    }
    const pairs = pending ?? generateKeyPairs();
    pending = undefined;
    const fresh: StoredKeys = { session, ...(await pairs) };
    // Signed out while the keys were being made: store nothing after the sign-out cleared the store.
    if (ended.has(`${user}\n${session}`)) throw new SessionExpiredError();
    await store.set(user, fresh).catch(() => undefined);
    // Keys of an earlier session were replaced (a new sign-in); none at all without a sign-in in
    // this page means they were lost while the session went on.
    return describeKeys(user, fresh, !stored && !signInSeen);
  }

  return {
    forToken(accessToken) {
      const { user, session } = sessionOf(accessToken);
      const id = `${user}\n${session}`;
      if (ended.has(id)) return Promise.reject(new SessionExpiredError());
      let keys = loading.get(id);
      if (!keys) {
        keys = load(user, session);
        loading.set(id, keys);
        keys.catch(() => loading.delete(id));
      }
      return keys;
    },
    signingIn() {
      signInSeen = true;
      pending ??= generateKeyPairs();
      pending.catch(() => undefined);
    },
    async forget() {
      for (const id of loading.keys()) ended.add(id);
      loading.clear();
      bound.clear();
      pending = undefined;
      await store.clear();
    },
    answered(keys) {
      const id = `${keys.user}\n${keys.session}`;
      if (loading.has(id)) bound.add(id);
    },
    isBound(keys) {
      return bound.has(`${keys.user}\n${keys.session}`);
    },
  };
}
