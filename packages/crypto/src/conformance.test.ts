/**
 * Envelope messages against the stock Encryption SDK client (`@aws-crypto/client-node`) as the oracle,
 * and tampering that must give typed errors and never plaintext.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  buildClient,
  CommitmentPolicy,
  type EncryptionContext,
  KmsKeyringNode,
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from "@aws-crypto/client-node";
import { sensitiveFields } from "@veil/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RecordContext } from "./context.ts";
import { createEnvelopeCrypto } from "./envelope-streams.ts";
import { CiphertextError, CryptoError } from "./errors.ts";
import { createKmsStandIn, type KmsStandIn } from "./testing/kms-stand-in.ts";

const ctx: RecordContext = { ownerId: "owner-1", recordId: "rec-1", purpose: "record.sensitive" };
const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

function envelopeFor(kms: KmsStandIn, suite: "unsigned" | "signed" = "unsigned", streamFrameLength?: number) {
  return createEnvelopeCrypto({
    app: "veil",
    stage: "test",
    suite,
    kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
    ...(streamFrameLength ? { streamFrameLength } : {}),
  });
}

/**
 * The stock SDK's default materials manager and KMS keyring, asked with the data key path: KMS binds
 * each data key to `{app, stage, purpose}` (plus the signer key of a signed suite), not to the record.
 */
function stockDataKeyPath(kms: KmsStandIn): NodeMaterialsManager {
  const keyring = new KmsKeyringNode({
    generatorKeyId: kms.keyArn,
    clientProvider: kms.clientProvider as never,
  });
  const cmm = new NodeDefaultCryptographicMaterialsManager(keyring);
  return {
    getEncryptionMaterials: (request) => cmm.getEncryptionMaterials(request),
    decryptMaterials: ({ suite, encryptionContext, encryptedDataKeys }) => {
      const path: EncryptionContext = {};
      for (const key of ["app", "stage", "purpose", "aws-crypto-public-key"]) {
        if (encryptionContext[key] !== undefined) path[key] = encryptionContext[key] as string;
      }
      return cmm.decryptMaterials({ suite, encryptionContext: path, encryptedDataKeys });
    },
  };
}

const fieldsArb = fc.record(
  Object.fromEntries(sensitiveFields.map((name) => [name, fc.string({ unit: "grapheme", maxLength: 200 })])),
  { requiredKeys: [] },
);

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("records read by the stock Encryption SDK client", () => {
  it("what encryptFields writes, the stock client decrypts given the data key path (both suites)", async () => {
    const kms = createKmsStandIn();
    const writers = { unsigned: envelopeFor(kms), signed: envelopeFor(kms, "signed") };
    const oracle = stockDataKeyPath(kms);
    await fc.assert(
      fc.asyncProperty(fieldsArb, fc.constantFrom("unsigned", "signed" as const), async (fields, suite) => {
        const ciphertext = await writers[suite].encryptFields(fields, ctx);
        const { plaintext, messageHeader } = await stock.decrypt(oracle, ciphertext);
        expect(JSON.parse(plaintext.toString("utf8"))).toEqual(fields);
        expect(messageHeader.encryptionContext).toMatchObject({ app: "veil", stage: "test", ...ctx });
        expect(messageHeader.suiteId).toBe(suite === "signed" ? 0x0578 : 0x0478);
      }),
      { numRuns: 20 },
    );
  });

  it("streams too: the stock client decrypts what encryptStream writes, at frame boundaries", async () => {
    const kms = createKmsStandIn();
    const envelope = envelopeFor(kms, "unsigned", 1024);
    for (const size of [0, 1, 1023, 1024, 1025, 5000]) {
      const plaintext = randomBytes(size);
      const ciphertext = await collect(envelope.encryptStream(Readable.from([plaintext]), ctx));
      const { plaintext: out } = await stock.decrypt(stockDataKeyPath(kms), ciphertext);
      expect(out.equals(plaintext), `size ${size}`).toBe(true);
    }
  });
});

describe("tampered records give typed errors, never plaintext", () => {
  const refused = async (promise: Promise<unknown>) => {
    const outcome = await promise.then(
      () => "decrypted",
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(CryptoError);
    return outcome as CryptoError;
  };

  it("a flip of any bit anywhere, both suites", { timeout: 120_000 }, async () => {
    const kms = createKmsStandIn();
    for (const suite of ["unsigned", "signed"] as const) {
      const envelope = envelopeFor(kms, suite);
      const ciphertext = await envelope.encryptFields({ diagnosis: "d", notes: "n".repeat(40) }, ctx);
      for (let i = 0; i < ciphertext.byteLength; i++) {
        const copy = new Uint8Array(ciphertext);
        copy[i]! ^= 1 << (i % 8);
        const err = await refused(envelope.decryptFields(copy, ctx));
        expect(err.name, `${suite} byte ${i}`).toMatch(/^(CiphertextError|ContextMismatchError)$/);
      }
    }
  });

  it("truncation at every length", async () => {
    const kms = createKmsStandIn();
    const envelope = envelopeFor(kms);
    const ciphertext = await envelope.encryptBytes(randomBytes(5000), ctx);
    for (let n = 0; n < ciphertext.byteLength; n += n < 200 ? 1 : 37) {
      expect(await refused(envelope.decryptBytes(ciphertext.subarray(0, n), ctx))).toBeInstanceOf(
        CiphertextError,
      );
    }
  });

  it("a message of another KMS key, of a non-committing suite, or with two data keys", async () => {
    const kms = createKmsStandIn();
    const envelope = envelopeFor(kms);
    const keyring = new KmsKeyringNode({
      generatorKeyId: kms.keyArn,
      keyIds: [kms.createKey()],
      clientProvider: kms.clientProvider as never,
    });
    const context = { app: "veil", stage: "test", ...ctx };
    const twoKeys = (await stock.encrypt(keyring, Buffer.from("x"), { encryptionContext: context })).result;
    expect(await refused(envelope.decryptBytes(twoKeys, ctx))).toMatchObject({ name: "CiphertextError" });
    const legacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
    const oneKey = new KmsKeyringNode({
      generatorKeyId: kms.keyArn,
      clientProvider: kms.clientProvider as never,
    });
    const nonCommitting = (await legacy.encrypt(oneKey, Buffer.from("x"), { encryptionContext: context }))
      .result;
    expect(await refused(envelope.decryptBytes(nonCommitting, ctx))).toMatchObject({
      name: "CiphertextError",
      reason: "unsupportedSuite",
    });
  });
});

describe("streams release plaintext only after a frame's tag verifies", () => {
  it("a flip in frame n releases exactly the frames before it, then a typed error", async () => {
    const kms = createKmsStandIn();
    const frameLength = 4096;
    const envelope = envelopeFor(kms, "unsigned", frameLength);
    const plaintext = randomBytes(frameLength * 6);
    const ciphertext = await collect(envelope.encryptStream(Readable.from([plaintext]), ctx));
    // Frames are the body's end; each is 4 (sequence number) + 12 (IV) + frameLength + 16 (tag).
    const frameBytes = 4 + 12 + frameLength + 16;
    const finalFrameBytes = 4 + 4 + 12 + 4 + 0 + 16;
    const bodyStart = ciphertext.length - 6 * frameBytes - finalFrameBytes;
    for (const n of [0, 2, 5]) {
      const copy = Buffer.from(ciphertext);
      copy[bodyStart + n * frameBytes + 4 + 12 + 100]! ^= 1;
      const out = envelope.decryptStream(Readable.from([copy]), ctx);
      let released = Buffer.alloc(0);
      out.on("data", (chunk: Buffer) => {
        released = Buffer.concat([released, chunk]);
      });
      const err = await new Promise((resolve) => out.on("error", resolve));
      expect(err).toMatchObject({ name: "CiphertextError", reason: "tampered" });
      expect(released.length, `frame ${n}`).toBe(n * frameLength);
      expect(released.equals(plaintext.subarray(0, n * frameLength))).toBe(true);
    }
  });
});
