/**
 * The direct writer of 0x0478 messages against the SDK-material path (`encryptMessage`, built on the
 * SDK's helpers): the same bytes for the same message id, at every frame boundary and for any
 * context; the SDK's own client decrypts them; and its copies of the key are zeroed.
 */
import { createSecretKey, randomBytes } from "node:crypto";
import { AlgorithmSuiteIdentifier } from "@aws-crypto/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { committedSuiteId, encryptCommittedMessage } from "./committed-message.ts";
import { encryptMessage } from "./encrypt-message.ts";
import {
  oracleClient as client,
  oracleKeyring as keyring,
  committedMaterial as material,
} from "./sdk-oracle.ts";

const context = fc.dictionary(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((k) => k !== "aws-crypto-public-key"),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  { maxKeys: 6 },
);

describe("encryptCommittedMessage", () => {
  it("is the suite the envelope writes by default", () => {
    expect(committedSuiteId).toBe(AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY);
  });

  it("writes encryptMessage's bytes for the same message id, at every frame boundary", async () => {
    await fc.assert(
      fc.asyncProperty(
        context,
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 200 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (ctx, frameLength, size, messageId) => {
          const plaintext = randomBytes(size);
          const sdkMaterial = await material(ctx);
          const key = {
            dataKey: sdkMaterial.getUnencryptedDataKey(),
            encryptedDataKeys: sdkMaterial.encryptedDataKeys,
          };
          const ours = encryptCommittedMessage(
            key,
            sdkMaterial.encryptionContext,
            plaintext,
            frameLength,
            messageId,
          );
          const reference = encryptMessage(sdkMaterial, plaintext, frameLength, messageId);
          expect(ours.toString("hex")).toBe(Buffer.from(reference).toString("hex"));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("writes what the SDK client decrypts, with a fresh message id each time", async () => {
    const sdkMaterial = await material({ app: "veil", purpose: "t" });
    const key = {
      dataKey: sdkMaterial.getUnencryptedDataKey(),
      encryptedDataKeys: sdkMaterial.encryptedDataKeys,
    };
    const plaintext = randomBytes(10_000);
    const a = encryptCommittedMessage(key, sdkMaterial.encryptionContext, plaintext, 4096);
    const b = encryptCommittedMessage(key, sdkMaterial.encryptionContext, plaintext, 4096);
    expect(a.subarray(3, 35).equals(b.subarray(3, 35))).toBe(false);
    for (const message of [a, b]) {
      const { plaintext: out, messageHeader } = await client.decrypt(keyring, message);
      expect(Buffer.from(out).equals(plaintext)).toBe(true);
      expect(messageHeader.suiteId).toBe(committedSuiteId);
    }
  });

  it("zeroes its export of the data key and leaves bytes it was given alone", () => {
    const bytes = randomBytes(32);
    const keep = Buffer.from(bytes);
    const edks = [] as never[];
    encryptCommittedMessage({ dataKey: bytes, encryptedDataKeys: edks }, {}, Buffer.from("x"), 4096);
    expect(bytes.equals(keep)).toBe(true);
    const keyObject = createSecretKey(randomBytes(32));
    const exports: Buffer[] = [];
    const spying = Object.assign(Object.create(keyObject), {
      export: () => {
        const out = keyObject.export();
        exports.push(out);
        return out;
      },
    });
    encryptCommittedMessage({ dataKey: spying, encryptedDataKeys: edks }, {}, Buffer.from("x"), 4096);
    expect(exports).toHaveLength(1);
    expect(exports[0]!.every((b) => b === 0)).toBe(true);
  });

  it("refuses a data key of another length and an out-of-range frame length", () => {
    expect(() =>
      encryptCommittedMessage(
        { dataKey: randomBytes(16), encryptedDataKeys: [] },
        {},
        Buffer.from("x"),
        4096,
      ),
    ).toThrow(/length/);
    expect(() =>
      encryptCommittedMessage({ dataKey: randomBytes(32), encryptedDataKeys: [] }, {}, Buffer.from("x"), 0),
    ).toThrow(/frame length/);
  });
});
