/**
 * `openUpload` — the Encryption SDK's stream reader with the upload's rules — against the SDK's
 * buffered `decrypt` as oracle: what it accepts decrypts to the same bytes however the input is
 * chunked; every bit flip, truncation, reordered or repeated frame and trailing byte is refused with an
 * `ImageRejectedError`; a frame's plaintext is released only once its tag verified.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { generateFleKeyPair } from "@veil/crypto/testing";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { ImageRejectedError, StorageUnavailableError } from "../errors.ts";
import { type OpenUploadOptions, openUpload } from "./decrypt.ts";
import { encryptUploadStream } from "./encrypt-node.ts";
import { encryptUpload as encryptInBrowser } from "./encrypt-web.ts";
import { uploadEncryptionContext, uploadHeaderLength } from "./format.ts";

// The browser SDK finds WebCrypto on `window` or `self` when it loads; Node has it on `globalThis`.
vi.hoisted(() => {
  (globalThis as { self?: unknown }).self ??= globalThis;
});

const pair = generateFleKeyPair();
const other = generateFleKeyPair();
const names = { providerId: "veil-test-fle", keyName: "veil-test-key-1" };
const publicKey = { pem: pair.publicKeyPem, ...names };
const decryptKey = { ...names, privateKeyPem: pair.privateKeyPem };
const context = uploadEncryptionContext("5a1d9a56-3f0b-4f3e-8a57-0c1c2b3d4e5f");
const head = uploadHeaderLength({ ...names, modulusBytes: 256, context });
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const sdkKeyring = new RawRsaKeyringNode({
  keyNamespace: names.providerId,
  keyName: names.keyName,
  rsaKey: { privateKey: pair.privateKeyPem, publicKey: pair.publicKeyPem },
  oaepHash: "sha256",
});
const options: OpenUploadOptions = { keys: [decryptKey], context, maxPlaintextBytes: 1 << 21 };

/** `message` cut at `cuts`, as a stream of those chunks. */
function chunked(message: Uint8Array, cuts: readonly number[] = []): Readable {
  const at = [...new Set(cuts.map((c) => c % (message.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, message.length]) {
    if (to > from) chunks.push(Buffer.from(message.subarray(from, to)));
    from = Math.max(from, to);
  }
  return Readable.from(chunks);
}

const open = (message: Uint8Array, overrides: Partial<OpenUploadOptions> = {}, cuts: number[] = []) =>
  buffer(openUpload(chunked(message, cuts), { ...options, ...overrides }));

/** `ok <hex>` or `refused <reason>`. */
async function ours(message: Uint8Array, cuts: readonly number[] = []): Promise<string> {
  try {
    return `ok ${(await buffer(openUpload(chunked(message, cuts), options))).toString("hex")}`;
  } catch (err) {
    if (!(err instanceof ImageRejectedError)) throw err;
    return `refused ${err.reason}`;
  }
}

/** The SDK's buffered decrypt: `ok <hex>` or `refused`. */
async function theirs(message: Uint8Array): Promise<string> {
  try {
    const { plaintext, messageHeader } = await sdk.decrypt(sdkKeyring, message);
    expect(messageHeader.encryptionContext).toEqual(context);
    return `ok ${Buffer.from(plaintext).toString("hex")}`;
  } catch {
    return "refused";
  }
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

const inBrowser = async (plaintext: Uint8Array, frameLength = 64) =>
  Buffer.from(await encryptInBrowser(plaintext, { publicKey, context, frameLength }));
const inNode = (plaintext: Uint8Array, frameLength = 64, key = publicKey) =>
  buffer(
    encryptUploadStream(Readable.from([Buffer.from(plaintext)]), { publicKey: key, context, frameLength }),
  );

describe("openUpload reads what both Encryption SDKs write", () => {
  it("as the SDK does, however the message is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 400 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        async (frameLength, size, cuts, browser) => {
          const plaintext = randomBytes(size);
          const message = browser
            ? await inBrowser(plaintext, frameLength)
            : await inNode(plaintext, frameLength);
          const result = await ours(message, cuts);
          expect(result).toBe(`ok ${plaintext.toString("hex")}`);
          expect(await theirs(message)).toBe(result);
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);

  it("with the previous key during a rotation", async () => {
    const plaintext = randomBytes(300);
    const old = await inNode(plaintext, 64, {
      pem: other.publicKeyPem,
      providerId: names.providerId,
      keyName: "old",
    });
    const keys = [
      decryptKey,
      { privateKeyPem: other.privateKeyPem, providerId: names.providerId, keyName: "old" },
    ];
    expect((await open(old, { keys })).equals(plaintext)).toBe(true);
    expect(await rejection(open(old))).toMatchObject({ reason: "undecryptable" });
  });
});

describe("openUpload fails closed", () => {
  it("refuses every bit flip the SDK refuses (all of them), at any chunking", async () => {
    const message = await inBrowser(randomBytes(150));
    for (let i = 0; i < message.length; i++) {
      const copy = Buffer.from(message);
      copy[i]! ^= 1 << (i % 8);
      expect([i, await ours(copy, [i, i + 1, 7 * i])]).toEqual([i, "refused undecryptable"]);
      expect([i, await theirs(copy)]).toEqual([i, "refused"]);
    }
  }, 120_000);

  it("refuses every truncation", async () => {
    const message = await inBrowser(randomBytes(150));
    for (let n = 0; n < message.length; n++) {
      expect([n, await ours(message.subarray(0, n), [n >> 1])]).toEqual([n, "refused undecryptable"]);
    }
  }, 60_000);

  it("refuses any byte after the final frame, of either SDK's framing (the SDK ignores them)", async () => {
    for (const size of [150, 128]) {
      for (const message of [await inBrowser(randomBytes(size)), await inNode(randomBytes(size))]) {
        expect(await ours(message)).toMatch(/^ok /);
        for (const extra of [Buffer.of(0), randomBytes(32), randomBytes(40)]) {
          const longer = Buffer.concat([message, extra]);
          expect(await ours(longer)).toBe("refused undecryptable");
          expect(await ours(longer, [message.length])).toBe("refused undecryptable");
          expect(await theirs(longer)).toMatch(/^ok /);
        }
      }
    }
    // Whole frames from the browser, then the 32 bytes by which the Node framing is longer, shaped as
    // the end of an empty final frame: still refused.
    const whole = await inBrowser(randomBytes(128));
    const node = await inNode(randomBytes(128));
    expect(node.length).toBe(whole.length + 32);
    expect(await ours(Buffer.concat([whole, node.subarray(-32)]))).toBe("refused undecryptable");
  });

  it("refuses reordered, repeated and dropped frames", async () => {
    const frameLength = 32;
    const message = await inBrowser(randomBytes(3 * frameLength + 5), frameLength);
    const frame = 4 + 12 + frameLength + 16;
    const frames = [0, 1, 2].map((i) => message.subarray(head + i * frame, head + (i + 1) * frame));
    const final = message.subarray(head + 3 * frame);
    const start = message.subarray(0, head);
    const [f1, f2, f3] = frames as [Buffer, Buffer, Buffer];
    expect(await ours(Buffer.concat([start, f1, f2, f3, final]))).toMatch(/^ok /);
    for (const body of [
      [f2, f1, f3, final],
      [f1, f1, f2, f3, final],
      [f1, f3, final],
      [f1, f2, f3],
    ]) {
      const mutated = Buffer.concat([start, ...body]);
      expect(await ours(mutated)).toBe("refused undecryptable");
      expect(await theirs(mutated)).toBe("refused");
    }
    // A repeated final frame is bytes after the message: the SDK ignores them, openUpload refuses.
    const repeatedFinal = Buffer.concat([start, f1, f2, f3, final, final]);
    expect(await ours(repeatedFinal)).toBe("refused undecryptable");
    expect(await theirs(repeatedFinal)).toMatch(/^ok /);
  });

  it("releases a frame's plaintext only once its tag verified", async () => {
    const frameLength = 1000;
    const plaintext = randomBytes(2500);
    const message = await inBrowser(plaintext, frameLength);
    const secondTag = head + 2 * (4 + 12 + frameLength + 16) - 1;
    message[secondTag]! ^= 1;
    const source = new PassThrough();
    const reader = openUpload(source, options);
    const released: Buffer[] = [];
    reader.on("data", (c: Buffer) => released.push(c));
    const failed = new Promise((resolve) => reader.on("error", resolve));
    // Byte by byte: the second frame's ciphertext is all in before its tag fails.
    for (const byte of message) source.write(Buffer.of(byte));
    expect(await failed).toBeInstanceOf(ImageRejectedError);
    expect(Buffer.concat(released).equals(plaintext.subarray(0, frameLength))).toBe(true);
  });

  it("refuses another image's context before the private key is used", async () => {
    const message = await inBrowser(randomBytes(300));
    const err = await rejection(open(message, { context: uploadEncryptionContext("another") }));
    expect(err).toMatchObject({ name: "ImageRejectedError", reason: "undecryptable", detail: "context" });
    const extra = await encryptInBrowser(randomBytes(10), { publicKey, context: { ...context, more: "x" } });
    expect(await rejection(open(extra))).toMatchObject({ reason: "undecryptable", detail: "context" });
  });

  it("refuses another key or other names", async () => {
    const foreign = await inNode(randomBytes(300), 64, { ...publicKey, pem: other.publicKeyPem });
    expect(await rejection(open(foreign))).toMatchObject({ reason: "undecryptable" });
    const renamed = await inNode(randomBytes(300), 64, { ...publicKey, keyName: "veil-test-key-12" });
    expect(await rejection(open(renamed))).toMatchObject({ reason: "undecryptable" });
  });

  it("refuses a committing suite (not what the API asked for) before the private key is used", async () => {
    const committing = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const { result } = await committing.encrypt(sdkKeyring, randomBytes(300), {
      encryptionContext: context,
      suiteId: AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
    });
    expect(await rejection(open(result))).toMatchObject({ reason: "undecryptable", detail: "suite" });
  });

  it("refuses frames over 1 MiB (the most it buffers to authenticate a frame)", async () => {
    const size = 1024 * 1024 + 10;
    const plaintext = randomBytes(size);
    const maxPlaintextBytes = 2 * size;
    expect((await open(await inNode(plaintext, 1024 * 1024), { maxPlaintextBytes })).length).toBe(size);
    expect(
      await rejection(open(await inNode(plaintext, 1024 * 1024 + 1), { maxPlaintextBytes })),
    ).toMatchObject({
      reason: "undecryptable",
    });
  });

  it("counts plaintext against the limit: one byte more is tooLarge", async () => {
    const message = await inBrowser(randomBytes(3000), 1024);
    expect(await rejection(open(message, { maxPlaintextBytes: 2999 }))).toMatchObject({ reason: "tooLarge" });
    expect((await open(message, { maxPlaintextBytes: 3000 })).length).toBe(3000);
  });

  it("keeps a failing source's storage error (a retry, not a refusal)", async () => {
    const message = await inBrowser(randomBytes(3000), 1024);
    const source = new PassThrough();
    const opened = buffer(openUpload(source, options));
    source.write(message.subarray(0, 1000));
    source.destroy(new StorageUnavailableError("GetObject", "SlowDown"));
    expect(await rejection(opened)).toBeInstanceOf(StorageUnavailableError);
  });

  it("error messages carry no byte of the upload", async () => {
    const err = (await rejection(
      open(Buffer.from("plain text that is not a message at all, 64 bytes or more...")),
    )) as Error;
    expect(err).toBeInstanceOf(ImageRejectedError);
    expect(err.message).not.toMatch(/plain text/);
  });
});
