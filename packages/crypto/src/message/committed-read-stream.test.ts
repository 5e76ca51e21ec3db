/**
 * The streaming reader of 0x0478 messages against the SDK's own stream client: the same plaintext for
 * what the SDK and our writer write, however the input is cut; the same outcome on every bit flip and
 * truncation, never releasing a frame before its tag verified; the key commitment checked under an
 * authentic header tag; frames out of order and trailing bytes refused; the derived key zeroed.
 */
import { randomBytes } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { CommitmentPolicy, SignaturePolicy } from "@aws-crypto/client-node";
import type { HeaderInfo } from "@aws-crypto/serialize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { typed } from "../envelope.ts";
import { CiphertextError } from "../errors.ts";
import { type CommittedKeys, committedSuiteId, startCommittedMessage } from "./committed-message.ts";
import {
  CommittedDecryptStream,
  type CommittedReadOptions,
  committedKeysFor,
} from "./committed-read-stream.ts";
import { CommittedEncryptStream } from "./committed-stream.ts";
import { parseHeader } from "./decrypt-message.ts";
import {
  committedKey,
  committedMaterial,
  forgeCommitment,
  oracleClient,
  oracleDataKey,
  oracleKeyring,
  oracleMaterials,
} from "./sdk-oracle.ts";

const policies = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
} as const;

/** The keys as the envelope gets them: the data key from the materials manager, then the derivation. */
async function keysOf(info: HeaderInfo): Promise<CommittedKeys> {
  return committedKeysFor(await oracleDataKey(info), info);
}

const reader = (options: Partial<CommittedReadOptions> = {}) =>
  new CommittedDecryptStream({
    ...policies,
    keys: keysOf,
    typed: (err) => typed(err, "decrypt"),
    ...options,
  });

/** `bytes` cut at `cuts` (offsets, any order), as a stream of those chunks. */
function chunked(bytes: Buffer, cuts: readonly number[]): Readable {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    if (to > from) chunks.push(bytes.subarray(from, to));
    from = Math.max(from, to);
  }
  return Readable.from(chunks);
}

/** An error's name and reason. */
function label(err: unknown): string {
  const { name, reason } = err as { name: string; reason?: string };
  return `${name} ${reason}`;
}

/** What a stream released before it ended or failed, and how it ended. */
async function run(source: Readable, transform: NodeJS.ReadWriteStream) {
  const released: Buffer[] = [];
  const out = source.pipe(transform as NodeJS.WritableStream) as unknown as Readable;
  source.on("error", (err) => out.destroy(err));
  const error = await new Promise<unknown>((resolve) => {
    out.on("data", (chunk: Buffer) => released.push(chunk));
    out.on("end", () => resolve(undefined));
    out.on("error", resolve);
  });
  return { released: Buffer.concat(released), error };
}

/**
 * The SDK's stream client as the envelope ran it: over a materials manager that types an unwrap
 * failure as `wrongKey` (as the envelope's caching manager does).
 */
const sdkReader = () =>
  oracleClient.decryptStream({
    getEncryptionMaterials: (request) => oracleMaterials.getEncryptionMaterials(request),
    decryptMaterials: async (request) => {
      try {
        const material = await oracleMaterials.decryptMaterials(request);
        material.getUnencryptedDataKey();
        return material;
      } catch {
        throw new CiphertextError("wrongKey");
      }
    },
  });

async function sdkEncrypt(plaintext: Buffer, frameLength: number, context: Record<string, string>) {
  const out = Readable.from([plaintext]).pipe(
    oracleClient.encryptStream(oracleKeyring, {
      suiteId: committedSuiteId,
      frameLength,
      encryptionContext: context,
    }),
  );
  return buffer(out as unknown as Readable);
}

async function ourEncrypt(plaintext: Buffer, frameLength: number, context: Record<string, string>) {
  const material = await committedMaterial(context);
  const key = { dataKey: material.getUnencryptedDataKey(), encryptedDataKeys: material.encryptedDataKeys };
  const start = Promise.resolve(startCommittedMessage(key, context, frameLength));
  return buffer(Readable.from([plaintext]).pipe(new CommittedEncryptStream(start, frameLength)));
}

describe("CommittedDecryptStream", () => {
  it("reads what the SDK's stream client and our writer write, at any size, frame length and chunking", async () => {
    const context = { app: "veil", stage: "test", purpose: "image" };
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 700 }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat(), { maxLength: 16 }),
        fc.boolean(),
        async (size, frameLength, cuts, ours) => {
          const plaintext = randomBytes(size);
          const message = await (ours ? ourEncrypt : sdkEncrypt)(plaintext, frameLength, context);
          const { released, error } = await run(chunked(message, cuts), reader());
          expect(error).toBeUndefined();
          expect(released.equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers every bit flip and truncation as the SDK's stream, releasing only authenticated frames", async () => {
    const frameLength = 40;
    const plaintext = randomBytes(130); // three full frames and a final one of 10 bytes
    const message = await ourEncrypt(plaintext, frameLength, { app: "veil", purpose: "image" });
    const info = parseHeader(message, policies);
    const head = info.headerLength + info.headerAuth.headerAuthLength;
    const frameBytes = 4 + 12 + frameLength + 16;
    /** Plaintext of the frames wholly before `position`: all a refusal there may have released. */
    const before = (position: number) =>
      position < head
        ? 0
        : Math.min(Math.floor((position - head) / frameBytes) * frameLength, plaintext.length);

    const variants: { bytes: Buffer; limit: number }[] = [];
    for (let at = 0; at < message.length; at++) {
      const flipped = Buffer.from(message);
      flipped[at]! ^= 1 << (at % 8);
      variants.push(
        { bytes: flipped, limit: before(at) },
        { bytes: message.subarray(0, at), limit: before(at) },
      );
    }
    let accepted = 0;
    for (const [i, { bytes, limit }] of variants.entries()) {
      const cuts = [i % 7, (i * 31) % bytes.length, (i * 101) % bytes.length];
      const ours = await run(chunked(bytes, cuts), reader());
      const sdk = await run(chunked(bytes, cuts), sdkReader());
      expect(ours.error === undefined, `variant ${i}`).toBe(sdk.error === undefined);
      if (ours.error !== undefined) {
        // The typed error the envelope's SDK path gave: the same reason.
        expect(label(ours.error), `variant ${i}`).toBe(label(typed(sdk.error, "decrypt")));
      }
      if (ours.error === undefined) {
        accepted++;
        expect(ours.released.equals(plaintext)).toBe(true);
      } else {
        expect(ours.error).toBeInstanceOf(CiphertextError);
        expect(plaintext.subarray(0, ours.released.length).equals(ours.released)).toBe(true);
        expect(ours.released.length, `variant ${i}`).toBeLessThanOrEqual(limit);
      }
    }
    // Flipping a bit of the message id or a data key byte or... always breaks a tag: nothing passes.
    expect(accepted).toBe(0);
  });

  it("refuses a header whose key commitment is wrong even when its tag is authentic", async () => {
    const context = { app: "veil" };
    const { dataKey, key } = await committedKey(context);
    const start = Promise.resolve(startCommittedMessage(key, context, 64));
    const message = await buffer(
      Readable.from([randomBytes(200)]).pipe(new CommittedEncryptStream(start, 64)),
    );
    const forged = forgeCommitment(message, dataKey);

    const ours = await run(Readable.from([forged]), reader());
    expect(ours.error).toBeInstanceOf(CiphertextError);
    expect((ours.error as CiphertextError).reason).toBe("tampered");
    expect(ours.released.length).toBe(0);
    const sdk = await run(Readable.from([forged]), sdkReader());
    expect(label(typed(sdk.error, "decrypt"))).toBe("CiphertextError tampered");
    expect((await run(Readable.from([message]), reader())).error).toBeUndefined();
  });

  it("refuses frames reordered, duplicated or dropped, and bytes after the final frame", async () => {
    const frameLength = 32;
    const plaintext = randomBytes(100);
    const message = await ourEncrypt(plaintext, frameLength, { app: "veil" });
    const info = parseHeader(message, policies);
    const head = info.headerLength + info.headerAuth.headerAuthLength;
    const frameBytes = 4 + 12 + frameLength + 16;
    const frame = (n: number) => message.subarray(head + n * frameBytes, head + (n + 1) * frameBytes);
    const header = message.subarray(0, head);
    const final = message.subarray(head + 3 * frameBytes);
    const variants = [
      Buffer.concat([header, frame(1), frame(0), frame(2), final]),
      Buffer.concat([header, frame(0), frame(0), frame(1), frame(2), final]),
      Buffer.concat([header, frame(0), frame(2), final]),
      Buffer.concat([header, frame(0), frame(1), frame(2)]),
      Buffer.concat([message, Buffer.of(0)]),
      Buffer.concat([message, message]),
    ];
    for (const bytes of variants) {
      const { error, released } = await run(Readable.from([bytes]), reader());
      expect(error).toBeInstanceOf(CiphertextError);
      expect((error as CiphertextError).reason).toBe("malformed");
      expect(plaintext.subarray(0, released.length).equals(released)).toBe(true);
    }
    expect((await run(Readable.from([message]), reader())).released.equals(plaintext)).toBe(true);
  });

  it("refuses another suite unless given another reader, which then gets the whole message", async () => {
    const plaintext = randomBytes(300);
    const { result } = await oracleClient.encrypt(oracleKeyring, plaintext, { frameLength: 64 });
    expect(parseHeader(result, policies).algorithmSuite.id).not.toBe(committedSuiteId);
    const refused = await run(chunked(Buffer.from(result), [3, 50]), reader());
    expect((refused.error as CiphertextError).reason).toBe("unsupportedSuite");
    const other = () => {
      const input = new PassThrough();
      return { input, output: input.pipe(sdkReader() as NodeJS.ReadWriteStream) as unknown as Readable };
    };
    const handed = await run(chunked(Buffer.from(result), [3, 50, 200]), reader({ other }));
    expect(handed.error).toBeUndefined();
    expect(handed.released.equals(plaintext)).toBe(true);
  });

  it("zeroes the derived key at the end and when destroyed", async () => {
    const message = await ourEncrypt(randomBytes(500), 64, { app: "veil" });
    const seen: Buffer[] = [];
    const keys = async (info: HeaderInfo) => {
      const k = await keysOf(info);
      seen.push(k.encryptionKey);
      return k;
    };
    await run(Readable.from([message]), reader({ keys }));
    const stopped = reader({ keys });
    stopped.write(message.subarray(0, 300));
    await new Promise((resolve) => stopped.once("data", resolve));
    stopped.destroy();
    expect(seen).toHaveLength(2);
    for (const key of seen) expect(key.equals(Buffer.alloc(32))).toBe(true);
  });
});
