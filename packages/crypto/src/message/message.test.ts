import { randomBytes } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  getEncryptHelper,
  MultiKeyringNode,
  NodeDefaultCryptographicMaterialsManager,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  SignaturePolicy,
} from "@aws-crypto/client-node";
import { ContentAADString, ContentType, serializeMessageHeaderAuth } from "@aws-crypto/serialize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CiphertextError, CryptoError } from "../errors.ts";
import { type DecryptMessageOptions, decryptMessage } from "./decrypt-message.ts";
import { encryptMessage } from "./encrypt-message.ts";
import { bodyAad, serializer, suiteFor } from "./format.ts";

const aesKeyring = (name = "test-key") =>
  new RawAesKeyringNode({
    keyName: name,
    keyNamespace: "veil-test",
    unencryptedMasterKey: new Uint8Array(randomBytes(32)),
    wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
  });

const keyring = aesKeyring();
const cmm = new NodeDefaultCryptographicMaterialsManager(keyring);
const context = { app: "veil", stage: "test", purpose: "unit" };

const committing = {
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
} satisfies DecryptMessageOptions;

const unsigned = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;
const signed = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384;
const cloudFront = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA256;

const esdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const esdkLegacy = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);

async function leanEncrypt(plaintext: Uint8Array, suiteId: number, frameLength = 4096) {
  const policy =
    suiteId === cloudFront
      ? CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
      : CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT;
  const material = await cmm.getEncryptionMaterials({
    suite: suiteFor(suiteId),
    encryptionContext: context,
    commitmentPolicy: policy,
    plaintextLength: plaintext.byteLength,
  });
  return encryptMessage(material, plaintext, frameLength);
}

describe("in-memory messages interoperate with the Encryption SDK", () => {
  it("what we write, the SDK reads (both committing suites, any size and frame length)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(unsigned, signed),
        fc.constantFrom(16, 100, 1024, 4096),
        async (plaintext, suiteId, frameLength) => {
          const ciphertext = await leanEncrypt(plaintext, suiteId, frameLength);
          const out = await esdk.decrypt(keyring, ciphertext);
          expect(Buffer.from(out.plaintext).equals(Buffer.from(plaintext))).toBe(true);
          expect(out.messageHeader.suiteId).toBe(suiteId);
          expect(out.messageHeader.encryptionContext).toMatchObject(context);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("what the SDK writes, we read", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.constantFrom(unsigned, signed),
        fc.constantFrom(16, 100, 1024, 4096),
        async (plaintext, suiteId, frameLength) => {
          const { result } = await esdk.encrypt(keyring, plaintext, {
            suiteId: suiteId as never,
            encryptionContext: context,
            frameLength,
          });
          const out = await decryptMessage(result, cmm, committing);
          expect(out.plaintext.equals(Buffer.from(plaintext))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("frame boundaries: empty, exactly one frame, one byte over", async () => {
    for (const size of [0, 1, 99, 100, 101, 200]) {
      const plaintext = randomBytes(size);
      const ours = await leanEncrypt(plaintext, unsigned, 100);
      const { result: theirs } = await esdk.encrypt(keyring, plaintext, {
        suiteId: unsigned as never,
        encryptionContext: context,
        frameLength: 100,
      });
      // Same layout as the SDK: identical length (ids, IVs and keys differ).
      expect(ours.byteLength).toBe(theirs.byteLength);
      expect((await decryptMessage(ours, cmm, committing)).plaintext.equals(plaintext)).toBe(true);
      expect((await esdk.decrypt(keyring, ours)).plaintext.equals(plaintext)).toBe(true);
    }
  });

  it("message format v1 / suite 0x0178 (CloudFront FLE) both ways", async () => {
    const plaintext = Buffer.from("Jane Doe");
    const ours = await leanEncrypt(plaintext, cloudFront);
    expect([...ours.subarray(0, 4)]).toEqual([0x01, 0x80, 0x01, 0x78]);
    expect((await esdkLegacy.decrypt(keyring, ours)).plaintext.equals(plaintext)).toBe(true);
    const { result: theirs } = await esdkLegacy.encrypt(keyring, plaintext, { suiteId: cloudFront as never });
    const legacy = { ...committing, commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT };
    expect((await decryptMessage(theirs, cmm, legacy)).plaintext.equals(plaintext)).toBe(true);
  });
});

/** A non-framed message (which the JS SDK cannot write, but other SDKs — perhaps CloudFront — can). */
async function nonFramedMessage(plaintext: Buffer, suiteId: number): Promise<Buffer> {
  const policy =
    suiteId === cloudFront
      ? CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
      : CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT;
  const material = await cmm.getEncryptionMaterials({
    suite: suiteFor(suiteId),
    encryptionContext: context,
    commitmentPolicy: policy,
  });
  const { getCipherInfo, dispose } = getEncryptHelper(material);
  const suite = material.suite;
  const messageId = randomBytes(suite.messageFormat === 2 ? 32 : 16);
  const { getCipher, keyCommitment } = getCipherInfo(messageId);
  const framed = serializer.buildMessageHeader({
    suite,
    encryptedDataKeys: material.encryptedDataKeys,
    encryptionContext: material.encryptionContext,
    messageId,
    frameLength: 0,
    suiteData: keyCommitment,
  });
  const messageHeader = { ...framed, contentType: ContentType.NO_FRAMING };
  const header = Buffer.from(serializer.serializeMessageHeader(messageHeader));
  const headerIv = serializer.headerAuthIv(suite.ivLength);
  const auth = getCipher(headerIv);
  auth.setAAD(header);
  auth.update(Buffer.alloc(0));
  auth.final();
  const headerAuth = serializeMessageHeaderAuth({
    headerIv,
    headerAuthTag: auth.getAuthTag(),
    messageHeader,
  });
  const iv = serializer.nonFramedBodyIv(suite.ivLength);
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(plaintext.length));
  const aad = bodyAad.messageAAD(messageId, ContentAADString.NON_FRAMED_STRING_ID, 1, plaintext.length);
  const cipher = getCipher(iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  dispose();
  return Buffer.concat([header, headerAuth, iv, length, body, cipher.getAuthTag()]);
}

describe("non-framed messages", () => {
  it("decrypt like the SDK decrypts them (v1 0x0178 and v2)", async () => {
    const legacy = { ...committing, commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT };
    for (const [suiteId, sdk, options] of [
      [cloudFront, esdkLegacy, legacy],
      [unsigned, esdk, committing],
    ] as const) {
      const plaintext = randomBytes(777);
      const message = await nonFramedMessage(plaintext, suiteId);
      expect((await sdk.decrypt(keyring, message)).plaintext.equals(plaintext)).toBe(true);
      expect((await decryptMessage(message, cmm, options)).plaintext.equals(plaintext)).toBe(true);
      for (const i of [message.length - 1, message.length - 20, message.length - 800]) {
        const copy = Buffer.from(message);
        copy[i]! ^= 1;
        await expect(decryptMessage(copy, cmm, options)).rejects.toBeInstanceOf(CryptoError);
      }
    }
  });
});

describe("in-memory decryption fails closed", () => {
  const expectRefused = async (ciphertext: Uint8Array, options: DecryptMessageOptions = committing) => {
    const err = await decryptMessage(ciphertext, cmm, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CryptoError);
    return err as CryptoError;
  };

  it("flipping any bit of any byte is refused, for both suites", async () => {
    for (const suiteId of [unsigned, signed]) {
      const ciphertext = await leanEncrypt(randomBytes(150), suiteId, 64);
      for (let i = 0; i < ciphertext.byteLength; i++) {
        const copy = new Uint8Array(ciphertext);
        copy[i]! ^= 1 << (i % 8);
        await expectRefused(copy);
      }
    }
  });

  it("truncation at every length and a trailing byte are refused", async () => {
    const ciphertext = await leanEncrypt(randomBytes(150), unsigned, 64);
    for (let n = 0; n < ciphertext.byteLength; n++) await expectRefused(ciphertext.subarray(0, n));
    const err = await expectRefused(Buffer.concat([ciphertext, Buffer.from([0])]));
    expect(err).toMatchObject({ reason: "malformed" });
  });

  it("frames cannot be reordered", async () => {
    const ciphertext = Buffer.from(await leanEncrypt(Buffer.alloc(64 * 3, 7), unsigned, 64));
    // Swap the two first frames (each: 4-byte sequence number, 12-byte IV, 64 bytes, 16-byte tag).
    const frame = 4 + 12 + 64 + 16;
    const bodyStart = ciphertext.byteLength - (3 * frame + (4 + 4 + 12 + 4 + 0 + 16));
    const swapped = Buffer.concat([
      ciphertext.subarray(0, bodyStart),
      ciphertext.subarray(bodyStart + frame, bodyStart + 2 * frame),
      ciphertext.subarray(bodyStart, bodyStart + frame),
      ciphertext.subarray(bodyStart + 2 * frame),
    ]);
    expect(swapped.byteLength).toBe(ciphertext.byteLength);
    await expectRefused(swapped);
  });

  it("a committing-only policy refuses CloudFront's non-committing suite", async () => {
    const err = await expectRefused(await leanEncrypt(Buffer.from("x"), cloudFront));
    expect(err).toMatchObject({ reason: "unsupportedSuite" });
  });

  it("a no-signature policy refuses a signed message", async () => {
    const options = { ...committing, signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_FORBID_DECRYPT };
    const err = await expectRefused(await leanEncrypt(Buffer.from("x"), signed), options);
    expect(err).toMatchObject({ reason: "unsupportedSuite" });
  });

  it("a passed policy check is remembered only for its policies and suite", async () => {
    const signedMessage = await leanEncrypt(Buffer.from("x"), signed);
    const cloudFrontMessage = await leanEncrypt(Buffer.from("x"), cloudFront);
    const noSignatures = { ...committing, signaturePolicy: SignaturePolicy.ALLOW_ENCRYPT_FORBID_DECRYPT };
    for (let round = 0; round < 2; round++) {
      expect((await decryptMessage(signedMessage, cmm, committing)).plaintext.toString()).toBe("x");
      await expect(decryptMessage(signedMessage, cmm, noSignatures)).rejects.toMatchObject({
        reason: "unsupportedSuite",
      });
      await expect(decryptMessage(cloudFrontMessage, cmm, committing)).rejects.toMatchObject({
        reason: "unsupportedSuite",
      });
    }
  });

  it("more encrypted data keys than allowed are refused before any key is unwrapped", async () => {
    const multi = new MultiKeyringNode({ generator: keyring, children: [aesKeyring("second")] });
    const { result } = await esdk.encrypt(multi, Buffer.from("x"), { encryptionContext: context });
    let unwraps = 0;
    const counting = {
      getEncryptionMaterials: cmm.getEncryptionMaterials.bind(cmm),
      decryptMaterials: (request: Parameters<typeof cmm.decryptMaterials>[0]) => {
        unwraps++;
        return cmm.decryptMaterials(request);
      },
    };
    const err = await decryptMessage(result, counting, committing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CiphertextError);
    expect(unwraps).toBe(0);
  });

  it("a message for another key is refused as wrongKey", async () => {
    const other = new NodeDefaultCryptographicMaterialsManager(aesKeyring("other"));
    const err = await decryptMessage(await leanEncrypt(Buffer.from("x"), unsigned), other, committing).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: "CiphertextError", reason: "wrongKey" });
  });
});
