import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { decryptFleField } from "@veil/crypto";
import { generateFleKeyPair } from "@veil/crypto/testing";
import { describe, expect, it } from "vitest";
import { ImageRejectedError } from "../errors.ts";
import { openUpload } from "./decrypt.ts";
import { encryptUploadStream } from "./encrypt-node.ts";
import { encryptUpload } from "./encrypt-web.ts";
import { uploadCiphertextLength, uploadEncryptionContext } from "./format.ts";

const pair = generateFleKeyPair();
const other = generateFleKeyPair();
const names = { providerId: "veil-test-fle", keyName: "veil-test-key-1" };
const publicKey = { pem: pair.publicKeyPem, ...names };
const decryptKey = { privateKeyPem: pair.privateKeyPem, ...names };
const imageId = "0b6f6a3e-1f4e-4d3c-9a53-3c1b2d9e8f70";
const context = uploadEncryptionContext(imageId);
const layout = { ...names, modulusBytes: 256, context };
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const sdkKeyring = () =>
  new RawRsaKeyringNode({
    keyNamespace: names.providerId,
    keyName: names.keyName,
    rsaKey: { privateKey: pair.privateKeyPem, publicKey: pair.publicKeyPem },
    oaepHash: "sha256",
  });

const open = (message: Uint8Array, overrides: Partial<Parameters<typeof openUpload>[1]> = {}) =>
  buffer(
    openUpload(Readable.from([Buffer.from(message)]), {
      keys: [decryptKey],
      context,
      maxPlaintextBytes: 1 << 20,
      ...overrides,
    }),
  );

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("upload format: the browser encryptor writes the Encryption SDK's message", () => {
  const frame = 1024;
  const sizes = [0, 1, frame - 1, frame, frame + 1, 3 * frame, 5000];

  it("the SDK decrypts it; it starts like CloudFront FLE; its length is the signed length", async () => {
    for (const size of sizes) {
      const plaintext = randomBytes(size);
      const message = await encryptUpload(plaintext, { publicKey, context, frameLength: frame });
      expect([...message.subarray(0, 4)]).toEqual([0x01, 0x80, 0x01, 0x78]);
      expect(message.byteLength).toBe(uploadCiphertextLength(size, { ...layout, frameLength: frame }));
      const out = await sdk.decrypt(sdkKeyring(), message);
      expect(Buffer.from(out.plaintext).equals(plaintext)).toBe(true);
      expect(out.messageHeader.encryptionContext).toEqual(context);
      expect(out.messageHeader.frameLength).toBe(frame);
      expect((await open(message)).equals(plaintext)).toBe(true);
    }
  });

  it("the SDK's own stream encryptor (the Node reference) has the same length for every size", async () => {
    for (const size of sizes) {
      const message = await buffer(
        encryptUploadStream(Readable.from([randomBytes(size)]), { publicKey, context, frameLength: frame }),
      );
      expect(message.byteLength).toBe(uploadCiphertextLength(size, { ...layout, frameLength: frame }));
    }
  });

  it("a small upload is exactly a CloudFront FLE value: decryptFleField reads it", async () => {
    const message = await encryptUpload(Buffer.from("tiny"), { publicKey, context });
    const plaintext = await decryptFleField(Buffer.from(message).toString("base64"), decryptKey);
    expect(Buffer.from(plaintext).toString()).toBe("tiny");
  });
});

describe("opening an upload fails closed", () => {
  const plaintext = randomBytes(3000);
  const message = () => encryptUpload(plaintext, { publicKey, context, frameLength: 1024 });

  it("another image's context is refused before the private key is used", async () => {
    const err = await rejection(open(await message(), { context: uploadEncryptionContext("another") }));
    expect(err).toMatchObject({ name: "ImageRejectedError", reason: "undecryptable", detail: "context" });
  });

  it("an extra context pair is refused", async () => {
    const extra = await encryptUpload(plaintext, { publicKey, context: { ...context, more: "x" } });
    expect(await rejection(open(extra))).toMatchObject({ reason: "undecryptable" });
  });

  it("another key or other names are refused", async () => {
    const foreign = await encryptUpload(plaintext, {
      publicKey: { ...publicKey, pem: other.publicKeyPem },
      context,
    });
    expect(await rejection(open(foreign))).toMatchObject({ reason: "undecryptable" });
    const renamed = await encryptUpload(plaintext, { publicKey: { ...publicKey, keyName: "k2" }, context });
    expect(await rejection(open(renamed))).toMatchObject({ reason: "undecryptable" });
  });

  it("the previous key still opens uploads during a rotation", async () => {
    const old = await encryptUpload(plaintext, {
      publicKey: { pem: other.publicKeyPem, providerId: names.providerId, keyName: "old" },
      context,
    });
    const keys = [
      decryptKey,
      { privateKeyPem: other.privateKeyPem, providerId: names.providerId, keyName: "old" },
    ];
    expect((await open(old, { keys })).equals(plaintext)).toBe(true);
  });

  it("a flipped bit anywhere is refused, and nothing after it is released", async () => {
    const original = await message();
    for (let i = 0; i < original.byteLength; i += 37) {
      const copy = Buffer.from(original);
      copy[i]! ^= 0x10;
      expect(await rejection(open(copy))).toBeInstanceOf(ImageRejectedError);
    }
  });

  it("truncation and trailing garbage are refused", async () => {
    const original = Buffer.from(await message());
    for (const n of [0, 10, 400, original.length - 1]) {
      expect(await rejection(open(original.subarray(0, n)))).toBeInstanceOf(ImageRejectedError);
    }
  });

  it("a committing suite (not what the API asked for) is refused", async () => {
    const committing = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { result } = await committing.encrypt(sdkKeyring(), plaintext, {
      encryptionContext: context,
      suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    });
    expect(await rejection(open(result))).toMatchObject({ reason: "undecryptable", detail: "suite" });
  });

  it("frames over 1 MiB are refused (the ingest never buffers more than a frame)", async () => {
    const size = 1024 * 1024 + 10;
    const encrypt = (frameLength: number) =>
      buffer(encryptUploadStream(Readable.from([randomBytes(size)]), { publicKey, context, frameLength }));
    const maxPlaintextBytes = 2 * size;
    expect((await open(await encrypt(1024 * 1024), { maxPlaintextBytes })).length).toBe(size);
    expect(await rejection(open(await encrypt(1024 * 1024 + 1), { maxPlaintextBytes }))).toBeInstanceOf(
      ImageRejectedError,
    );
  });

  it("more plaintext than allowed is tooLarge", async () => {
    expect(await rejection(open(await message(), { maxPlaintextBytes: 2999 }))).toMatchObject({
      reason: "tooLarge",
    });
    expect((await open(await message(), { maxPlaintextBytes: 3000 })).length).toBe(3000);
  });

  it("error messages carry no byte of the upload", async () => {
    const err = (await rejection(
      open(Buffer.from("plain text that is not a message at all, 64 bytes or more...")),
    )) as Error;
    expect(err.message).not.toMatch(/plain text/);
  });
});
