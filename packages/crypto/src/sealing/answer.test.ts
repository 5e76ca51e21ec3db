/**
 * Sealed answers against the stock Encryption SDK client (`@aws-crypto/client-node`) as the oracle:
 * it opens them with the browser's private key, refuses them with another key, and finds the proof's
 * jti in the authenticated context. Keys that break the contract are refused before any sealing.
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { CryptoConfigError, SealKeyError } from "../errors.ts";
import { sealAnswer, sealAnswerStream } from "./answer.ts";
import { cachedSealKeys, sealKeyThumbprint } from "./seal-key.ts";

const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

interface BrowserKey {
  jwk: JsonWebKey;
  privateKey: KeyObject;
}

function browserKey(modulusLength = 3072): BrowserKey {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength });
  const { kty, n, e } = publicKey.export({ format: "jwk" });
  return { jwk: { kty, n, e, alg: "RSA-OAEP-256", use: "enc" }, privateKey };
}

async function opener(key: BrowserKey, keyName?: string) {
  return new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: keyName ?? (await calculateJwkThumbprint(key.jwk as never)),
    rsaKey: { privateKey: key.privateKey as never },
    oaepHash: "sha256",
  });
}

describe("sealed answers", { timeout: 60_000 }, () => {
  let alice: BrowserKey;
  let mallory: BrowserKey;
  beforeAll(() => {
    alice = browserKey();
    mallory = browserKey();
  });

  it("the stock client opens a sealed answer with the browser's private key; the context carries the jti", async () => {
    const plaintext = Buffer.from(JSON.stringify({ fullName: "Ada Canary", diagnosis: "canary-1" }));
    const message = await sealAnswer(plaintext, alice.jwk, "jti-abc_123");
    expect(Buffer.from(message).includes(Buffer.from("Ada Canary"))).toBe(false);
    const opened = await stock.decrypt(await opener(alice), message);
    expect(Buffer.from(opened.plaintext)).toEqual(plaintext);
    expect(opened.messageHeader.suiteId).toBe(0x0478);
    expect(opened.messageHeader.encryptionContext).toEqual({
      [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
      [sealedAnswer.contextProofKey]: "jti-abc_123",
    });
    expect(opened.messageHeader.encryptedDataKeys).toHaveLength(1);
    expect(opened.messageHeader.encryptedDataKeys[0]?.providerId).toBe(sealedAnswer.keyNamespace);
  });

  it("another key cannot open it, not even under the right key name", async () => {
    const message = await sealAnswer(Buffer.from("{}"), alice.jwk, "jti-1");
    await expect(stock.decrypt(await opener(mallory), message)).rejects.toThrow();
    const aliceName = await sealKeyThumbprint(alice.jwk);
    await expect(stock.decrypt(await opener(mallory, aliceName), message)).rejects.toThrow();
  });

  it("seals an empty and a multi-frame answer", async () => {
    const big = Buffer.alloc(200 * 1024, 7);
    for (const plaintext of [Buffer.alloc(0), big]) {
      const opened = await stock.decrypt(await opener(alice), await sealAnswer(plaintext, alice.jwk, "j"));
      expect(Buffer.from(opened.plaintext)).toEqual(plaintext);
    }
  });

  it("streams: the stock client opens a streamed answer in 64 KiB frames", async () => {
    const plaintext = Buffer.alloc(300 * 1024);
    for (let i = 0; i < plaintext.length; i++) plaintext[i] = i % 251;
    const seal = await sealAnswerStream(alice.jwk, "jti-stream");
    const chunks: Buffer[] = [];
    await pipeline(
      Readable.from([plaintext.subarray(0, 1000), plaintext.subarray(1000)]),
      seal,
      async (s) => {
        for await (const c of s) chunks.push(c as Buffer);
      },
    );
    const message = Buffer.concat(chunks);
    const opened = await stock.decrypt(await opener(alice), message);
    expect(Buffer.from(opened.plaintext)).toEqual(plaintext);
    expect(opened.messageHeader.encryptionContext[sealedAnswer.contextProofKey]).toBe("jti-stream");
    expect(opened.messageHeader).toMatchObject({ suiteId: 0x0478, frameLength: 64 * 1024 });
    const viaStream = await buffer(
      Readable.from([message]).pipe(stock.decryptUnsignedMessageStream(await opener(alice))),
    );
    expect(viaStream).toEqual(plaintext);
  });

  it("refuses keys that break the contract, before sealing anything", async () => {
    const small = browserKey(2048);
    const large = browserKey(4096);
    const { d, p, q, dp, dq, qi } = alice.privateKey.export({ format: "jwk" });
    const bad: [unknown, string][] = [
      [null, "notAnObject"],
      ["key", "notAnObject"],
      [[alice.jwk], "notAnObject"],
      [{ ...alice.jwk, kty: "EC" }, "notRsaOaep256"],
      [{ ...alice.jwk, alg: "RSA-OAEP" }, "notRsaOaep256"],
      [{ ...alice.jwk, alg: undefined }, "notRsaOaep256"],
      [{ ...alice.jwk, use: "sig" }, "notRsaOaep256"],
      [{ ...alice.jwk, e: "Aw" }, "badExponent"],
      [small.jwk, "badModulus"],
      [large.jwk, "badModulus"],
      [{ ...alice.jwk, n: `AA${alice.jwk.n}` }, "badModulus"],
      [{ ...alice.jwk, n: `${alice.jwk.n}=` }, "badModulus"],
      [{ ...alice.jwk, n: 5 }, "badModulus"],
      [{ ...alice.jwk, d, p, q, dp, dq, qi }, "privateKey"],
    ];
    for (const [jwk, reason] of bad) {
      await expect(sealAnswer(Buffer.from("{}"), jwk as JsonWebKey, "j")).rejects.toMatchObject({
        name: "SealKeyError",
        reason,
      });
      await expect(sealKeyThumbprint(jwk)).rejects.toBeInstanceOf(SealKeyError);
    }
    await expect(sealAnswerStream(small.jwk, "j")).rejects.toBeInstanceOf(SealKeyError);
  });

  it("refuses a jti that cannot go into a context", async () => {
    for (const jti of ["", "a b", "x".repeat(257), "é"]) {
      await expect(sealAnswer(Buffer.from("{}"), alice.jwk, jti)).rejects.toBeInstanceOf(CryptoConfigError);
    }
  });

  it("uses the RFC 7638 thumbprint as key name and caches one keyring per key", async () => {
    expect(await sealKeyThumbprint(alice.jwk)).toBe(await calculateJwkThumbprint(alice.jwk as never));
    const before = cachedSealKeys();
    for (let i = 0; i < 5; i++) await sealAnswer(Buffer.from("{}"), { ...alice.jwk }, `j${i}`);
    expect(cachedSealKeys()).toBe(Math.max(before, 1));
  });
});
