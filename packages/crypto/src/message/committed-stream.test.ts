/**
 * The streaming writer of 0x0478 messages: for the same message id, the bytes of the in-memory writer
 * (itself checked byte for byte against the SDK-material path) however the input is cut into chunks;
 * the SDK's own stream client decrypts what it writes; it fails closed and zeroes its key.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encryptCommittedMessage, startCommittedMessage } from "./committed-message.ts";
import { CommittedEncryptStream } from "./committed-stream.ts";
import { oracleClient as client, committedMaterial, oracleKeyring as keyring } from "./sdk-oracle.ts";

async function key(context: Record<string, string>) {
  const material = await committedMaterial(context);
  // Bytes, so that the writers (which zero what they export) can share one key in a test.
  const dataKey = Buffer.from((material.getUnencryptedDataKey() as { export(): Buffer }).export());
  return { dataKey, encryptedDataKeys: material.encryptedDataKeys };
}

/** The input cut at `cuts` (offsets, any order), as a stream of those chunks. */
function chunked(plaintext: Buffer, cuts: readonly number[]): Readable {
  const at = [...new Set(cuts.map((c) => c % (plaintext.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, plaintext.length]) {
    if (to > from) chunks.push(plaintext.subarray(from, to));
    from = Math.max(from, to);
  }
  return Readable.from(chunks);
}

const stream = (
  k: Awaited<ReturnType<typeof key>>,
  context: Record<string, string>,
  frameLength: number,
  messageId?: Uint8Array,
) =>
  new CommittedEncryptStream(
    Promise.resolve(startCommittedMessage(k, context, frameLength, messageId)),
    frameLength,
  );

describe("CommittedEncryptStream", () => {
  it("writes the in-memory writer's bytes for the same message id, however the input is chunked", async () => {
    const context = { app: "veil", stage: "test", purpose: "image" };
    const k = await key(context);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (frameLength, size, cuts, messageId) => {
          const plaintext = randomBytes(size);
          const expected = encryptCommittedMessage(k, context, plaintext, frameLength, messageId);
          const out = await buffer(chunked(plaintext, cuts).pipe(stream(k, context, frameLength, messageId)));
          expect(out.toString("hex")).toBe(expected.toString("hex"));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("writes what the SDK's stream client decrypts", async () => {
    const context = { app: "veil", purpose: "image" };
    const k = await key(context);
    for (const size of [0, 1, 4095, 4096, 4097, 3 * 65_536, 200_000]) {
      const plaintext = randomBytes(size);
      const message = await buffer(
        chunked(plaintext, [1, 700, 65_536, 70_000]).pipe(stream(k, context, 4096)),
      );
      const decrypted = await buffer(Readable.from([message]).pipe(client.decryptStream(keyring)));
      expect(decrypted.equals(plaintext)).toBe(true);
    }
  });

  it("emits nothing but the error when its key never comes, and ends only after its input", async () => {
    const failing = new CommittedEncryptStream(Promise.reject(new Error("no key")), 4096);
    await expect(buffer(Readable.from([Buffer.from("x")]).pipe(failing))).rejects.toThrow("no key");
    const k = await key({});
    const open = stream(k, {}, 4096);
    const chunks: Buffer[] = [];
    open.on("data", (c: Buffer) => chunks.push(c));
    let ended = false;
    open.on("end", () => {
      ended = true;
    });
    open.write(randomBytes(10_000));
    await new Promise((r) => setTimeout(r, 20));
    // Two full frames are out; the rest waits for the end of the input (it may be the final frame).
    expect(ended).toBe(false);
    expect(Buffer.concat(chunks).length).toBeLessThan(10_000);
    open.end();
    await new Promise((r) => open.on("end", r));
    expect(ended).toBe(true);
  });

  it("zeroes the derived key at the end and when destroyed", async () => {
    const k = await key({});
    const ended = startCommittedMessage(k, {}, 4096);
    await buffer(
      Readable.from([randomBytes(5000)]).pipe(new CommittedEncryptStream(Promise.resolve(ended), 4096)),
    );
    expect(ended.encryptionKey.every((b) => b === 0)).toBe(true);
    const destroyed = startCommittedMessage(k, {}, 4096);
    const s = new CommittedEncryptStream(Promise.resolve(destroyed), 4096);
    s.on("error", () => undefined);
    s.write(randomBytes(100));
    s.destroy(new Error("stop"));
    await new Promise((r) => setTimeout(r, 10));
    expect(destroyed.encryptionKey.every((b) => b === 0)).toBe(true);
  });
});
