/**
 * The direct reader of 0x0478 messages against the SDK-helper path (`decryptMessage`): the same
 * plaintext for what the SDK's own client writes, the same outcome on every mutation and truncation,
 * and the key commitment checked even under an authentic header tag.
 */
import { randomBytes } from "node:crypto";
import { CommitmentPolicy, SignaturePolicy } from "@aws-crypto/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CiphertextError } from "../errors.ts";
import { committedSuiteId, encryptCommittedMessage } from "./committed-message.ts";
import { openCommittedMessage } from "./committed-read.ts";
import { decryptMessage, parseHeader } from "./decrypt-message.ts";
import {
  committedKey,
  forgeCommitment,
  oracleClient,
  oracleDataKey,
  oracleKeyring,
  oracleMaterials,
} from "./sdk-oracle.ts";

const options = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
} as const;

/** Plaintext as hex, or the error's name and reason. */
async function outcome(step: () => Promise<Uint8Array>): Promise<string> {
  try {
    return `ok ${Buffer.from(await step()).toString("hex")}`;
  } catch (err) {
    const { name, reason } = err as { name: string; reason?: string };
    return `${name} ${reason}`;
  }
}

/** The reader as the envelope runs it: header, data key from the materials manager, message. */
async function direct(message: Uint8Array): Promise<Uint8Array> {
  const info = parseHeader(message, options);
  if (info.algorithmSuite.id !== committedSuiteId) throw new CiphertextError("unsupportedSuite");
  return openCommittedMessage(message, info, await oracleDataKey(info), options);
}

const general = async (message: Uint8Array) =>
  (await decryptMessage(message, oracleMaterials, options)).plaintext;

const context = fc.dictionary(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).filter((k) => k !== "aws-crypto-public-key"),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  { maxKeys: 5 },
);

describe("openCommittedMessage", () => {
  it("reads what the SDK's own client writes, at any frame length and size", async () => {
    await fc.assert(
      fc.asyncProperty(
        context,
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 1, max: 300 }),
        async (ctx, plaintext, frameLength) => {
          const { result } = await oracleClient.encrypt(oracleKeyring, plaintext, {
            encryptionContext: ctx,
            suiteId: committedSuiteId,
            frameLength,
          });
          expect(Buffer.from(await direct(result)).equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("answers every mutation and truncation exactly as the SDK-helper path", async () => {
    const plaintext = randomBytes(90);
    const { result } = await oracleClient.encrypt(oracleKeyring, plaintext, {
      encryptionContext: { app: "veil", purpose: "record" },
      suiteId: committedSuiteId,
      frameLength: 64,
    });
    const original = Buffer.from(result);
    const variants: Buffer[] = [original, Buffer.concat([original, Buffer.of(0)])];
    for (let at = 0; at < original.length; at++) {
      const flipped = Buffer.from(original);
      flipped[at]! ^= 1 << (at % 8);
      variants.push(flipped, original.subarray(0, at));
    }
    let opened = 0;
    for (const message of variants) {
      const expected = await outcome(() => general(message));
      expect(await outcome(() => direct(message))).toBe(expected);
      if (expected.startsWith("ok")) opened++;
    }
    expect(opened).toBe(1);
  });

  it("refuses a header whose key commitment is wrong even when its tag is authentic", async () => {
    const { dataKey, key } = await committedKey({ app: "veil" });
    const message = encryptCommittedMessage(key, { app: "veil" }, Buffer.from("record"), 4096);
    const info = parseHeader(message, options);
    const forged = forgeCommitment(message, dataKey);
    const forgedInfo = parseHeader(forged, options);
    expect(
      await outcome(async () => openCommittedMessage(forged, forgedInfo, Buffer.from(dataKey), options)),
    ).toBe("CiphertextError malformed");
    expect(await outcome(() => general(forged))).toBe("CiphertextError malformed");
    expect(
      await outcome(async () => openCommittedMessage(message, info, Buffer.from(dataKey), options)),
    ).toBe(`ok ${Buffer.from("record").toString("hex")}`);
  });
});
