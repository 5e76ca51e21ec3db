/**
 * The direct upload reader against the Encryption SDK as oracle: what it accepts, the SDK decrypts to
 * the same bytes, however the input is chunked; every bit flip, truncation, reordered or repeated
 * frame and trailing byte is refused (the SDK refuses all but the trailing bytes, see read-stream.ts);
 * a frame's plaintext is released only once its tag verified.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { generateFleKeyPair } from "@veil/crypto/testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ImageRejectedError } from "../errors.ts";
import { encryptUploadStream } from "./encrypt-node.ts";
import { encryptUpload } from "./encrypt-web.ts";
import { uploadEncryptionContext, uploadHeaderLength } from "./format.ts";
import { UploadDecryptStream } from "./read-stream.ts";

const pair = generateFleKeyPair();
const names = { providerId: "veil-test-fle", keyName: "veil-test-key-1" };
const publicKey = { pem: pair.publicKeyPem, ...names };
const context = uploadEncryptionContext("5a1d9a56-3f0b-4f3e-8a57-0c1c2b3d4e5f");
const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT);
const sdkKeyring = new RawRsaKeyringNode({
  keyNamespace: names.providerId,
  keyName: names.keyName,
  rsaKey: { privateKey: pair.privateKeyPem },
  oaepHash: "sha256",
});
const options = {
  keys: [{ ...names, privateKeyPem: pair.privateKeyPem }],
  context,
  maxPlaintextBytes: 1 << 20,
  maxFrameBytes: 1 << 20,
};

/** `message` cut at `cuts`, as a stream of those chunks. */
function chunked(message: Buffer, cuts: readonly number[] = []): Readable {
  const at = [...new Set(cuts.map((c) => c % (message.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, message.length]) {
    if (to > from) chunks.push(message.subarray(from, to));
    from = Math.max(from, to);
  }
  return Readable.from(chunks);
}

/** Ours: `ok <hex>` or the refusal's reason. */
async function ours(message: Buffer, cuts: readonly number[] = []): Promise<string> {
  try {
    return `ok ${(await buffer(chunked(message, cuts).pipe(new UploadDecryptStream(options)))).toString("hex")}`;
  } catch (err) {
    if (!(err instanceof ImageRejectedError)) throw err;
    return `refused ${err.reason}`;
  }
}

/** The SDK's: `ok <hex>` or `refused`. */
async function theirs(message: Buffer): Promise<string> {
  try {
    const { plaintext, messageHeader } = await sdk.decrypt(sdkKeyring, message);
    expect(messageHeader.encryptionContext).toEqual(context);
    return `ok ${Buffer.from(plaintext).toString("hex")}`;
  } catch {
    return "refused";
  }
}

const encrypt = async (plaintext: Buffer, frameLength: number) =>
  Buffer.from(await encryptUpload(plaintext, { publicKey, context, frameLength }));

describe("UploadDecryptStream", () => {
  it("reads what both encryptors write, as the SDK does, however the message is chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 400 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        async (frameLength, size, cuts, web) => {
          const plaintext = randomBytes(size);
          const message = web
            ? await encrypt(plaintext, frameLength)
            : await buffer(
                encryptUploadStream(Readable.from([plaintext]), { publicKey, context, frameLength }),
              );
          const result = await ours(message, cuts);
          expect(result).toBe(`ok ${plaintext.toString("hex")}`);
          expect(await theirs(message)).toBe(result);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("refuses every bit flip the SDK refuses (all of them), at any chunking", async () => {
    const message = await encrypt(randomBytes(150), 64);
    for (let i = 0; i < message.length; i++) {
      const copy = Buffer.from(message);
      copy[i]! ^= 1 << (i % 8);
      const result = await ours(copy, [i, i + 1, 7 * i]);
      expect([i, result]).toEqual([i, "refused undecryptable"]);
      expect([i, await theirs(copy)]).toEqual([i, "refused"]);
    }
  });

  it("refuses every truncation, and any byte after the final frame", async () => {
    const message = await encrypt(randomBytes(150), 64);
    for (let n = 0; n < message.length; n++) {
      expect([n, await ours(message.subarray(0, n), [n >> 1])]).toEqual([n, "refused undecryptable"]);
      expect([n, await theirs(message.subarray(0, n))]).toEqual([n, "refused"]);
    }
    for (const extra of [Buffer.of(0), randomBytes(40)]) {
      expect(await ours(Buffer.concat([message, extra]))).toBe("refused undecryptable");
      expect(await ours(Buffer.concat([message, extra]), [message.length])).toBe("refused undecryptable");
    }
  });

  it("refuses reordered, repeated and dropped frames", async () => {
    const frameLength = 32;
    const message = await encrypt(randomBytes(3 * frameLength + 5), frameLength);
    const head = uploadHeaderLength({ ...names, modulusBytes: 256, context });
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
    // A repeated final frame is bytes after the message: the SDK ignores them, this reader refuses.
    const repeatedFinal = Buffer.concat([start, f1, f2, f3, final, final]);
    expect(await ours(repeatedFinal)).toBe("refused undecryptable");
    expect(await theirs(repeatedFinal)).toMatch(/^ok /);
  });

  it("releases a frame's plaintext only once its tag verified", async () => {
    const frameLength = 1000;
    const plaintext = randomBytes(2500);
    const message = await encrypt(plaintext, frameLength);
    const head = uploadHeaderLength({ ...names, modulusBytes: 256, context });
    const secondTag = head + 2 * (4 + 12 + frameLength + 16) - 1;
    message[secondTag]! ^= 1;
    const reader = new UploadDecryptStream(options);
    const released: Buffer[] = [];
    reader.on("data", (c: Buffer) => released.push(c));
    const failed = new Promise((resolve) => reader.on("error", resolve));
    // Byte by byte: the second frame's ciphertext is all in before its tag fails.
    for (const byte of message) reader.write(Buffer.of(byte));
    expect(await failed).toBeInstanceOf(ImageRejectedError);
    expect(Buffer.concat(released).equals(plaintext.subarray(0, frameLength))).toBe(true);
  });

  it("counts plaintext against the limit and frames against the largest frame", async () => {
    const message = await encrypt(randomBytes(3000), 1024);
    const limited = (overrides: Partial<typeof options>) =>
      buffer(chunked(message).pipe(new UploadDecryptStream({ ...options, ...overrides }))).then(
        (b) => b.length,
        (e: ImageRejectedError) => e.reason,
      );
    expect(await limited({ maxPlaintextBytes: 2999 })).toBe("tooLarge");
    expect(await limited({ maxPlaintextBytes: 3000 })).toBe(3000);
    expect(await limited({ maxFrameBytes: 1023 })).toBe("undecryptable");
    expect(await limited({ maxFrameBytes: 1024 })).toBe(3000);
  });
});
