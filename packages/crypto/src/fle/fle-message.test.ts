/**
 * The direct FLE decryption path: its key derivation against `node:crypto`'s HKDF, the data-key
 * checks that sit before the header tag (which would otherwise be the only guard), the single-frame
 * body reader against the general one, and the batch of a form.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { CommitmentPolicy, SignaturePolicy } from "@aws-crypto/material-management-node";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decryptBody } from "../message/decrypt-message.ts";
import { fleSuite } from "../suites.ts";
import { generateFleKeyPair } from "../testing/keys.ts";
import { decryptFleField, decryptFleMessagesSync, encryptFleField } from "./fle-field.ts";
import { deriveFleKey, openFleBody, readFleMessage, unwrapFleDataKey } from "./fle-message.ts";
import { fleUnwrapKey } from "./keyrings.ts";

const names = { providerId: "veil-fle-provider", keyName: "veil-fle-key-1" };
let pair: { privateKeyPem: string; publicKeyPem: string };

beforeAll(() => {
  pair = generateFleKeyPair();
});

describe("deriveFleKey", () => {
  it("is HKDF-SHA256 with no salt and info = suite id ‖ message id", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 16, maxLength: 32 }),
        (key, id) => {
          const info = Buffer.concat([Buffer.of(fleSuite >> 8, fleSuite & 0xff), id]);
          const expected = Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), info, 32));
          expect(deriveFleKey(key, fleSuite, id).equals(expected)).toBe(true);
        },
      ),
    );
  });
});

describe("unwrapFleDataKey", () => {
  it("refuses a data key of the wrong length even when it unwraps", async () => {
    const b64 = await encryptFleField("x", { publicKeyPem: pair.publicKeyPem, ...names });
    const message = Buffer.from(b64, "base64");
    // The RSA-2048 wrapped key is 256 bytes right after the provider info; swap in a wrapped 16-byte key.
    const at = message.indexOf(Buffer.from(names.keyName)) + names.keyName.length + 2;
    const short = publicEncrypt(
      { key: pair.publicKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      randomBytes(16),
    );
    expect(message.readUInt16BE(at - 2)).toBe(256);
    short.copy(message, at);
    await expect(
      decryptFleField(message.toString("base64"), { privateKeyPem: pair.privateKeyPem, ...names }),
    ).rejects.toMatchObject({ name: "FleDecryptError", reason: "undecryptable" });
  });
});

const options = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
  signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_FORBID_DECRYPT,
  maxEncryptedDataKeys: 1,
  maxBodySize: 64 * 1024,
} as const;

/** What a step gives: its bytes, or the name and reason of what it threw. */
function outcome(step: () => Uint8Array): string {
  try {
    return `ok ${Buffer.from(step()).toString("hex")}`;
  } catch (err) {
    const { name, reason } = err as { name: string; reason?: string };
    return `${name} ${reason}`;
  }
}

describe("openFleBody", () => {
  it("reads every mutation and truncation of a one-frame body exactly as the general reader", async () => {
    const key = fleUnwrapKey({ privateKeyPem: pair.privateKeyPem, ...names });
    const b64 = await encryptFleField("Type 2 diabetes mellitus", {
      publicKeyPem: pair.publicKeyPem,
      ...names,
    });
    const original = Buffer.from(b64, "base64");
    const sealed = readFleMessage(original, key, options);
    const dataKey = unwrapFleDataKey(sealed, key);
    const bodyAt = sealed.info.headerLength + sealed.info.headerAuth.headerAuthLength;
    // The header is fixed (its parser is tested on its own); every byte from the header tag on varies.
    const variants: Buffer[] = [original, Buffer.concat([original, Buffer.of(0)])];
    for (let at = sealed.info.headerLength; at < original.length; at++) {
      for (const bit of [0x01, 0x80]) {
        const flipped = Buffer.from(original);
        flipped[at]! ^= bit;
        variants.push(flipped);
      }
      if (at >= bodyAt) variants.push(original.subarray(0, at));
    }
    // Content lengths past the frame length and the body limit, with the rest of the frame intact.
    for (const length of [0, 4096, 4097, 0xffffffff]) {
      const changed = Buffer.from(original);
      changed.writeUInt32BE(length, bodyAt + 20);
      variants.push(changed);
    }
    // An authentic header (re-tagged with the data key, as any holder of the public key can) whose frame
    // length is smaller than the final frame: the SDK refuses it.
    const derived = deriveFleKey(dataKey, fleSuite, sealed.info.messageHeader.messageId);
    const shortFrames = Buffer.from(original);
    shortFrames.writeUInt32BE(8, sealed.info.headerLength - 4);
    const tagger = createCipheriv("aes-256-gcm", derived, sealed.info.headerAuth.headerIv);
    tagger.setAAD(shortFrames.subarray(0, sealed.info.headerLength));
    tagger.final();
    tagger.getAuthTag().copy(shortFrames, sealed.info.headerLength + 12);
    variants.push(shortFrames);
    const outcomes = new Set<string>();
    for (const limits of [options, { ...options, maxBodySize: 8 }]) {
      for (const message of variants) {
        const read = readFleMessage(message, key, limits);
        const general = outcome(() => {
          const decipher = (iv: Uint8Array) =>
            createDecipheriv("aes-256-gcm", derived, iv, { authTagLength: 16 });
          return decryptBody(message, read.info, decipher, undefined, limits).plaintext;
        });
        expect(outcome(() => openFleBody(read, dataKey, limits))).toBe(general);
        outcomes.add(general.startsWith("ok") ? `${general} ${limits.maxBodySize}` : general);
      }
    }
    // Opened once (the original, under the default limit); every kind of refusal was met.
    expect([...outcomes].filter((o) => o.startsWith("ok"))).toHaveLength(1);
    expect(outcomes).toContain("CiphertextError tampered");
    expect(outcomes).toContain("CiphertextError malformed");
    expect(outcome(() => openFleBody(sealed, dataKey, options))).toBe(
      `ok ${Buffer.from("Type 2 diabetes mellitus").toString("hex")}`,
    );
  });
});

describe("decryptFleMessagesSync", () => {
  it("decrypts a batch in order and labels a failure with its field", async () => {
    const encrypt = { publicKeyPem: pair.publicKeyPem, ...names };
    const decrypt = { privateKeyPem: pair.privateKeyPem, ...names };
    const values = ["a", "b".repeat(5000), "c"];
    const messages = await Promise.all(
      values.map(async (v, i) => ({
        message: Buffer.from(await encryptFleField(v, encrypt), "base64"),
        field: `f${i}`,
      })),
    );
    expect(decryptFleMessagesSync(messages, decrypt).map(String)).toEqual(values);
    const tampered = Buffer.from(messages[2]!.message);
    tampered[tampered.length - 1]! ^= 1;
    expect(() =>
      decryptFleMessagesSync([...messages.slice(0, 2), { message: tampered, field: "f2" }], decrypt),
    ).toThrow(expect.objectContaining({ name: "FleDecryptError", reason: "undecryptable", field: "f2" }));
    const otherKey = { ...names, keyName: "another-key" };
    const foreign = Buffer.from(
      await encryptFleField("d", { publicKeyPem: pair.publicKeyPem, ...otherKey }),
      "base64",
    );
    expect(() => decryptFleMessagesSync([...messages, { message: foreign, field: "f3" }], decrypt)).toThrow(
      expect.objectContaining({ name: "FleDecryptError", field: "f3" }),
    );
  });
});
