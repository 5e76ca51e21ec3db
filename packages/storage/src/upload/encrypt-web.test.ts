/**
 * The browser encryptor — the Encryption SDK for browsers — on Node's WebCrypto: its messages have
 * exactly the length the API signs, for every size, and the Node SDK, the ingest's reader and
 * CloudFront FLE's reader all read them.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { decryptFleField } from "@veil/crypto";
import { generateFleKeyPair } from "@veil/crypto/testing";
import { describe, expect, it, vi } from "vitest";
import { openUpload } from "./decrypt.ts";
import { encryptUpload } from "./encrypt-web.ts";
import { uploadCiphertextLength, uploadEncryptionContext, uploadFrameLength } from "./format.ts";

// The browser SDK finds WebCrypto on `window` or `self` when it loads; Node has it on `globalThis`.
vi.hoisted(() => {
  (globalThis as { self?: unknown }).self ??= globalThis;
});

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
const MiB = 1024 * 1024;

describe("the browser encryptor (Encryption SDK for browsers)", () => {
  it("writes exactly the signed length, for every size around the frame length and several MiB", async () => {
    const F = uploadFrameLength;
    const cases: Array<[number, number | undefined]> = [
      ...[0, 1, F - 1, F, F + 1, 2 * F, 3 * MiB, 5 * MiB + 3].map(
        (n) => [n, undefined] as [number, undefined],
      ),
      ...[0, 1, 1023, 1024, 1025, 3 * 1024, 5000].map((n) => [n, 1024] as [number, number]),
    ];
    for (const [size, frameLength] of cases) {
      const plaintext = randomBytes(size);
      const message = await encryptUpload(plaintext, {
        publicKey,
        context,
        ...(frameLength ? { frameLength } : {}),
      });
      expect([size, frameLength, message.byteLength]).toEqual([
        size,
        frameLength,
        uploadCiphertextLength(size, { ...layout, ...(frameLength ? { frameLength } : {}) }),
      ]);
      expect([...message.subarray(0, 4)]).toEqual([0x01, 0x80, 0x01, 0x78]);
      const out = await sdk.decrypt(sdkKeyring, message);
      expect(Buffer.from(out.plaintext).equals(plaintext)).toBe(true);
      expect(out.messageHeader.encryptionContext).toEqual(context);
      expect(out.messageHeader.frameLength).toBe(frameLength ?? F);
      const opened = openUpload(Readable.from([Buffer.from(message)]), {
        keys: [decryptKey],
        context,
        maxPlaintextBytes: size,
      });
      expect((await buffer(opened)).equals(plaintext)).toBe(true);
    }
  });

  it("encrypts a view into a larger buffer as its own bytes", async () => {
    const backing = randomBytes(5000);
    const view = backing.subarray(700, 3700);
    const message = await encryptUpload(view, { publicKey, context, frameLength: 1024 });
    expect(Buffer.from((await sdk.decrypt(sdkKeyring, message)).plaintext).equals(view)).toBe(true);
  });

  it("an upload is CloudFront's format but never passes as a form value: its image-id context is refused", async () => {
    const message = await encryptUpload(Buffer.from("tiny"), { publicKey, context });
    expect(Buffer.from((await sdk.decrypt(sdkKeyring, message)).plaintext).toString()).toBe("tiny");
    await expect(decryptFleField(Buffer.from(message).toString("base64"), decryptKey)).rejects.toMatchObject({
      name: "FleDecryptError",
      reason: "undecryptable",
    });
  });

  it("refuses a frame length the ingest would refuse", async () => {
    for (const frameLength of [0, 1.5, MiB + 1]) {
      await expect(encryptUpload(Buffer.from("x"), { publicKey, context, frameLength })).rejects.toThrow(
        RangeError,
      );
    }
  });
});
