/**
 * The direct FLE decryption path: its key derivation against `node:crypto`'s HKDF, and the data-key
 * checks that sit before the header tag (which would otherwise be the only guard).
 */
import { constants, hkdfSync, publicEncrypt, randomBytes } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { fleSuite } from "../suites.ts";
import { generateFleKeyPair } from "../testing/keys.ts";
import { decryptFleField, encryptFleField } from "./fle-field.ts";
import { deriveFleKey } from "./fle-message.ts";

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

describe("openFleMessage", () => {
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
