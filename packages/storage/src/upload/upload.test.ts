/**
 * The upload format's lengths and the Node encryptor (the Encryption SDK for Node.js): its messages
 * have one of the lengths `uploadCiphertextLengths` allows, and the SDK and the ingest's reader read
 * them. (The browser encryptor: encrypt-web.test.ts; the reader's refusals: decrypt.test.ts.)
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { generateFleKeyPair } from "@veil/crypto/testing";
import { describe, expect, it } from "vitest";
import { openUpload } from "./decrypt.ts";
import { encryptUpload, encryptUploadStream } from "./encrypt-node.ts";
import { uploadCiphertextLength, uploadCiphertextLengths, uploadEncryptionContext } from "./format.ts";

const pair = generateFleKeyPair();
const names = { providerId: "veil-test-fle", keyName: "veil-test-key-1" };
const publicKey = { pem: pair.publicKeyPem, ...names };
const decryptKey = { privateKeyPem: pair.privateKeyPem, ...names };
const context = uploadEncryptionContext("0b6f6a3e-1f4e-4d3c-9a53-3c1b2d9e8f70");
const layout = { ...names, modulusBytes: 256, context };
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const sdkKeyring = new RawRsaKeyringNode({
  keyNamespace: names.providerId,
  keyName: names.keyName,
  rsaKey: { privateKey: pair.privateKeyPem },
  oaepHash: "sha256",
});

describe("upload lengths", () => {
  it("the signed length: header, full frames, a final frame with the last 1..frameLength bytes", () => {
    const header = uploadCiphertextLength(0, layout) - 40;
    const f = { ...layout, frameLength: 100 };
    expect(uploadCiphertextLength(0, f)).toBe(header + 40);
    expect(uploadCiphertextLength(1, f)).toBe(header + 41);
    expect(uploadCiphertextLength(100, f)).toBe(header + 140);
    expect(uploadCiphertextLength(101, f)).toBe(header + 132 + 41);
    expect(uploadCiphertextLengths(100, f)).toEqual([header + 140, header + 132 + 40]);
    expect(uploadCiphertextLengths(101, f)).toEqual([header + 132 + 41]);
    expect(uploadCiphertextLengths(0, f)).toEqual([header + 40]);
  });

  it("refuses sizes and frame lengths that are not counts", () => {
    for (const bad of [-1, 1.5, Number.NaN])
      expect(() => uploadCiphertextLength(bad, layout)).toThrow(RangeError);
    for (const frameLength of [0, -1, 0.5]) {
      expect(() => uploadCiphertextLength(10, { ...layout, frameLength })).toThrow(RangeError);
    }
  });
});

describe("the Node encryptor (Encryption SDK for Node.js)", () => {
  const frame = 1024;
  const sizes = [0, 1, frame - 1, frame, frame + 1, 3 * frame, 5000];

  it("writes one of the allowed lengths: the signed one, or an empty final frame more after whole frames", async () => {
    for (const size of sizes) {
      const plaintext = randomBytes(size);
      const message = await encryptUpload(plaintext, { publicKey, context, frameLength: frame });
      const lengths = uploadCiphertextLengths(size, { ...layout, frameLength: frame });
      expect([size, message.byteLength]).toEqual([size, lengths.at(-1)]);
      expect([...message.subarray(0, 4)]).toEqual([0x01, 0x80, 0x01, 0x78]);
      const out = await sdk.decrypt(sdkKeyring, message);
      expect(Buffer.from(out.plaintext).equals(plaintext)).toBe(true);
      expect(out.messageHeader.encryptionContext).toEqual(context);
      const opened = openUpload(Readable.from([Buffer.from(message)]), {
        keys: [decryptKey],
        context,
        maxPlaintextBytes: size,
      });
      expect((await buffer(opened)).equals(plaintext)).toBe(true);
    }
  });

  it("the stream and the in-memory encryptor write the same lengths", async () => {
    for (const size of sizes) {
      const streamed = await buffer(
        encryptUploadStream(Readable.from([randomBytes(size)]), { publicKey, context, frameLength: frame }),
      );
      const inMemory = await encryptUpload(randomBytes(size), { publicKey, context, frameLength: frame });
      expect(streamed.byteLength).toBe(inMemory.byteLength);
    }
  });

  it("refuses a public key that is not one", () => {
    expect(() =>
      encryptUploadStream(Readable.from([]), { publicKey: { ...publicKey, pem: "nope" }, context }),
    ).toThrow(/not a valid PEM public key/);
  });
});
