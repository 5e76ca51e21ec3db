import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  MultiKeyringNode,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CryptoConfigError, FleFormatError } from "../errors.ts";
import { generateFleKeyPair } from "../testing/keys.ts";
import { decryptFleField, encryptFleField } from "./fle-field.ts";

const names = { providerId: "veil-fle-provider", keyName: "veil-fle-key-1" };
let pair: { privateKeyPem: string; publicKeyPem: string };
let enc: { publicKeyPem: string; providerId: string; keyName: string };
let dec: { privateKeyPem: string; providerId: string; keyName: string };

beforeAll(() => {
  pair = generateFleKeyPair();
  enc = { publicKeyPem: pair.publicKeyPem, ...names };
  dec = { privateKeyPem: pair.privateKeyPem, ...names };
});

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

describe("FLE field encryption as CloudFront does it", () => {
  it("round trips any UTF-8 text", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 500 }), async (value) => {
        expect(text(await decryptFleField(await encryptFleField(value, enc), dec))).toBe(value);
      }),
      { numRuns: 50 },
    );
  });

  it("round trips a 16 KB field", async () => {
    const value = "é".repeat(8 * 1024);
    expect(Buffer.byteLength(value)).toBe(16 * 1024);
    expect(text(await decryptFleField(await encryptFleField(value, enc), dec))).toBe(value);
  });

  it("writes message format v1 with suite 0x0178, padded standard base64", async () => {
    const b64 = await encryptFleField("x", enc);
    expect(b64).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(b64.length % 4).toBe(0);
    expect([...Buffer.from(b64, "base64").subarray(0, 4)]).toEqual([0x01, 0x80, 0x01, 0x78]);
  });

  it("its output decrypts with the Encryption SDK client and RawRsaKeyringNode as documented", async () => {
    const keyring = new RawRsaKeyringNode({
      keyNamespace: names.providerId,
      keyName: names.keyName,
      rsaKey: { privateKey: pair.privateKeyPem },
      oaepHash: "sha256",
    });
    const client = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
    const { plaintext, messageHeader } = await client.decrypt(
      keyring,
      Buffer.from(await encryptFleField("Ada", enc), "base64"),
    );
    expect(plaintext.toString()).toBe("Ada");
    expect(messageHeader.suiteId).toBe(AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256);
  });

  it("decrypts what the Encryption SDK client writes with suite 0x0178", async () => {
    const keyring = new RawRsaKeyringNode({
      keyNamespace: names.providerId,
      keyName: names.keyName,
      rsaKey: { publicKey: pair.publicKeyPem },
      oaepHash: "sha256",
    });
    const client = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
    for (const frameLength of [16, 4096]) {
      const { result } = await client.encrypt(keyring, Buffer.from("Grace"), {
        suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256,
        frameLength,
      });
      expect(text(await decryptFleField(result.toString("base64"), dec))).toBe("Grace");
    }
  });
});

describe("CloudFront-shaped messages from the stock Encryption SDK client", () => {
  const cloudFrontSuite = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256;
  const rsaKeyring = (publicKey: string, keyName = names.keyName) =>
    new RawRsaKeyringNode({
      keyNamespace: names.providerId,
      keyName,
      rsaKey: { publicKey },
      oaepHash: "sha256",
    });
  const legacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);

  it("any frame length, as long as no frame holds more than a CloudFront field (16 KB)", async () => {
    const keyring = rsaKeyring(pair.publicKeyPem);
    for (const [size, frameLength] of [
      [0, 4096],
      [5, 1],
      [300, 1024 * 1024],
      [16 * 1024, 16 * 1024],
    ] as const) {
      const value = Buffer.alloc(size, "a");
      const { result } = await legacy.encrypt(keyring, value, { suiteId: cloudFrontSuite, frameLength });
      expect(Buffer.from(await decryptFleField(result.toString("base64"), dec)).equals(value)).toBe(true);
    }
    const { result } = await legacy.encrypt(keyring, Buffer.alloc(16 * 1024 + 1, "a"), {
      suiteId: cloudFrontSuite,
      frameLength: 32 * 1024,
    });
    await expect(decryptFleField(result.toString("base64"), dec)).rejects.toMatchObject({
      name: "FleDecryptError",
    });
  });

  it("a message with an encryption context is refused (CloudFront never writes one)", async () => {
    const { result } = await legacy.encrypt(rsaKeyring(pair.publicKeyPem), Buffer.from("x"), {
      suiteId: cloudFrontSuite,
      encryptionContext: { field: "fullName" },
    });
    await expect(decryptFleField(result.toString("base64"), dec)).rejects.toMatchObject({
      name: "FleDecryptError",
      reason: "undecryptable",
    });
  });

  it("a message with two encrypted data keys is refused with a typed error", async () => {
    const other = generateFleKeyPair();
    const keyring = new MultiKeyringNode({
      generator: rsaKeyring(pair.publicKeyPem),
      children: [rsaKeyring(other.publicKeyPem, "second-key")],
    });
    const { result } = await legacy.encrypt(keyring, Buffer.from("x"), { suiteId: cloudFrontSuite });
    await expect(decryptFleField(result.toString("base64"), dec)).rejects.toMatchObject({
      name: "FleDecryptError",
      reason: "undecryptable",
    });
  });
});

describe("tolerant base64", () => {
  it("survives stripped padding, + turned into spaces, the url-safe alphabet and line breaks", async () => {
    let b64 = "";
    // Find a ciphertext whose base64 has both '+' and '/' and padding, to exercise every repair.
    for (let i = 0; i < 200 && !(b64.includes("+") && b64.includes("/") && b64.endsWith("=")); i++) {
      b64 = await encryptFleField(`value ${i}`, enc);
    }
    const variants = [
      b64.replace(/=+$/, ""),
      b64.replace(/\+/g, " "),
      b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
      b64.replace(/(.{76})/g, "$1\r\n"),
    ];
    for (const v of variants) expect(text(await decryptFleField(v, dec))).toMatch(/^value \d+$/);
  });

  it("refuses what is not base64 or not an Encryption SDK message", async () => {
    await expect(decryptFleField("not base64 !!", dec)).rejects.toBeInstanceOf(FleFormatError);
    await expect(decryptFleField("", dec)).rejects.toBeInstanceOf(FleFormatError);
    await expect(decryptFleField(Buffer.alloc(300, 7).toString("base64"), dec)).rejects.toMatchObject({
      name: "FleFormatError",
      reason: "notFleMessage",
    });
    await expect(decryptFleField("A".repeat(200_000), dec)).rejects.toMatchObject({ reason: "tooLarge" });
  });
});

describe("FLE decryption fails closed", () => {
  it("another private key, provider id or key name is refused", async () => {
    const b64 = await encryptFleField("x", enc);
    const other = generateFleKeyPair();
    for (const key of [
      { ...dec, privateKeyPem: other.privateKeyPem },
      { ...dec, providerId: "other-provider" },
      { ...dec, keyName: "other-key" },
    ]) {
      await expect(decryptFleField(b64, key)).rejects.toMatchObject({
        name: "FleDecryptError",
        reason: "undecryptable",
      });
    }
  });

  it("flipping any byte is refused with a typed error", async () => {
    const bytes = Buffer.from(await encryptFleField("Jane", enc), "base64");
    for (let i = 0; i < bytes.length; i++) {
      const copy = Buffer.from(bytes);
      copy[i]! ^= 0x04;
      const err = await decryptFleField(copy.toString("base64"), dec).catch((e: unknown) => e);
      expect(err, `byte ${i}`).toBeInstanceOf(Error);
      expect((err as Error).name).toMatch(/^(FleDecryptError|FleFormatError)$/);
    }
  });

  it("refuses every suite but CloudFront's, including committing and signed ones", async () => {
    const keyring = new RawRsaKeyringNode({
      keyNamespace: names.providerId,
      keyName: names.keyName,
      rsaKey: { publicKey: pair.publicKeyPem },
      oaepHash: "sha256",
    });
    const legacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
    const modern = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const messages = [
      (
        await legacy.encrypt(keyring, Buffer.from("x"), {
          suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384,
        })
      ).result,
      (
        await legacy.encrypt(keyring, Buffer.from("x"), {
          suiteId: AlgorithmSuiteIdentifier.ALG_AES128_GCM_IV12_TAG16_HKDF_SHA256,
        })
      ).result,
      (await modern.encrypt(keyring, Buffer.from("x"))).result,
    ];
    for (const message of messages) {
      await expect(decryptFleField(message.toString("base64"), dec)).rejects.toMatchObject({
        name: "FleDecryptError",
        reason: "unsupportedSuite",
      });
    }
  });

  it("refuses bad keys and names with CryptoConfigError", async () => {
    const b64 = await encryptFleField("x", enc);
    await expect(decryptFleField(b64, { ...dec, privateKeyPem: "nope" })).rejects.toBeInstanceOf(
      CryptoConfigError,
    );
    await expect(decryptFleField(b64, { ...dec, keyName: "" })).rejects.toBeInstanceOf(CryptoConfigError);
    await expect(encryptFleField("x", { ...enc, publicKeyPem: "nope" })).rejects.toBeInstanceOf(
      CryptoConfigError,
    );
  });

  it("error messages never quote the value, the key or the ciphertext", async () => {
    const b64 = await encryptFleField("Top-Secret-Value", enc);
    const errors = [
      await decryptFleField(b64, { ...dec, keyName: "other" }).catch((e: unknown) => e),
      await decryptFleField(`${b64.slice(0, 100)}!`, dec).catch((e: unknown) => e),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(Error);
      const textOf = `${(err as Error).message} ${JSON.stringify(err)}`;
      expect(textOf).not.toContain("Top-Secret-Value");
      expect(textOf).not.toContain(b64.slice(0, 40));
      expect(textOf).not.toContain("PRIVATE KEY");
    }
  });
});
