import { sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint } from "jose";
import { describe, expect, it, vi } from "vitest";
import { accessTokenFor, memoryKeyStore } from "../testing/sealed-answers.ts";
import { SessionExpiredError } from "./errors.ts";
import { createSessionKeyring, type KeyStore } from "./session-keys.ts";

const b64urlBytes = (s: string) => Buffer.from(s, "base64url").byteLength;

describe("session key pairs", { timeout: 30_000 }, () => {
  it("makes a P-256 proof key and a 3072-bit RSA-OAEP-256 seal key whose private halves cannot be exported", async () => {
    const keys = await createSessionKeyring({ store: memoryKeyStore() }).forToken(accessTokenFor("ada"));
    for (const { privateKey } of [keys.proof, keys.seal]) {
      expect(privateKey.extractable).toBe(false);
      for (const format of ["jwk", "pkcs8"] as const) {
        await expect(crypto.subtle.exportKey(format, privateKey)).rejects.toThrow();
      }
    }
    expect(keys.proof.privateKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    expect(keys.seal.privateKey.algorithm).toMatchObject({
      name: "RSA-OAEP",
      modulusLength: sealedAnswer.rsaModulusBits,
      hash: { name: "SHA-256" },
    });
    expect(Object.keys(keys.proofJwk).sort()).toEqual(["crv", "kty", "x", "y"]);
    expect(keys.sealJwk).toMatchObject({ kty: "RSA", e: "AQAB", alg: "RSA-OAEP-256", use: "enc" });
    expect(Object.keys(keys.sealJwk).sort()).toEqual(["alg", "e", "kty", "n", "use"]);
    expect(b64urlBytes(keys.sealJwk.n)).toBe(sealedAnswer.rsaModulusBits / 8);
    expect(keys.sealKeyName).toBe(await calculateJwkThumbprint(keys.sealJwk));
  });

  it("reuses the stored keys of the session after a reload, for every client, made once", async () => {
    const store = memoryKeyStore();
    const token = accessTokenFor("ada");
    const page = createSessionKeyring({ store });
    page.signingIn();
    const [a, b] = await Promise.all([page.forToken(token), page.forToken(token)]);
    expect(b).toBe(a);
    expect(store.entries.size).toBe(1);
    // A reload: a new keyring over the same store, a refreshed token of the same session.
    const reloaded = await createSessionKeyring({ store }).forToken(accessTokenFor("ada", "session-of-ada"));
    expect(reloaded.proof).toBe(a.proof);
    expect(reloaded.seal).toBe(a.seal);
    expect(reloaded.sealKeyName).toBe(a.sealKeyName);
    expect(reloaded.remade).toBe(false);
  });

  it("keeps keys per user, and makes new ones for a new sign-in session", async () => {
    const store = memoryKeyStore();
    const ring = createSessionKeyring({ store });
    const ada = await ring.forToken(accessTokenFor("ada", "s1"));
    const bob = await ring.forToken(accessTokenFor("bob", "s2"));
    expect(bob.sealKeyName).not.toBe(ada.sealKeyName);
    expect([...store.entries.keys()].sort()).toEqual(["ada", "bob"]);
    const again = await ring.forToken(accessTokenFor("ada", "s3"));
    expect(again.sealKeyName).not.toBe(ada.sealKeyName);
    expect(again.remade).toBe(false); // replaced keys of an earlier session: a new sign-in
    expect(store.entries.get("ada")?.session).toBe("s3");
  });

  it("deletes the keys at sign-out; the next session gets new ones", async () => {
    const store = memoryKeyStore();
    const ring = createSessionKeyring({ store });
    ring.signingIn();
    const before = await ring.forToken(accessTokenFor("ada"));
    await ring.forget();
    expect(store.entries.size).toBe(0);
    ring.signingIn();
    const after = await ring.forToken(accessTokenFor("ada", "next-sign-in"));
    expect(after.sealKeyName).not.toBe(before.sealKeyName);
    expect(after.remade).toBe(false);
  });

  it("makes no keys again for a session signed out of, not even for a request under way", async () => {
    const store = memoryKeyStore();
    const ring = createSessionKeyring({ store });
    const token = accessTokenFor("ada");
    const making = ring.forToken(token); // a request under way while the user signs out
    await ring.forget();
    await expect(making).rejects.toBeInstanceOf(SessionExpiredError);
    await expect(ring.forToken(token)).rejects.toBeInstanceOf(SessionExpiredError);
    expect(store.entries.size).toBe(0);
    // The next sign-in is another session.
    await expect(ring.forToken(accessTokenFor("ada", "next-session"))).resolves.toMatchObject({
      session: "next-session",
    });
  });

  it("marks keys made again for a session that began before this page as remade", async () => {
    const keys = await createSessionKeyring({ store: memoryKeyStore() }).forToken(accessTokenFor("ada"));
    expect(keys.remade).toBe(true);
  });

  it("keeps working in memory when the store fails (storage blocked)", async () => {
    const broken: KeyStore = {
      get: vi.fn(async () => {
        throw new Error("blocked");
      }),
      set: vi.fn(async () => {
        throw new Error("blocked");
      }),
      clear: async () => undefined,
    };
    const ring = createSessionKeyring({ store: broken });
    const a = await ring.forToken(accessTokenFor("ada"));
    expect(await ring.forToken(accessTokenFor("ada"))).toBe(a);
  });
});
