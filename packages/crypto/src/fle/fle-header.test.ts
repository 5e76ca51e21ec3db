/**
 * The direct FLE header reader against the SDK's parser: whatever it accepts — CloudFront-shaped
 * messages, and any mutation or truncation of them that it still accepts — the SDK must accept with
 * the same fields. Everything else it leaves to the SDK's parser.
 */
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import type { HeaderInfo } from "@aws-crypto/serialize";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { deserializer } from "../message/format.ts";
import { stockSdk } from "../testing/index.ts";
import { generateFleKeyPair } from "../testing/keys.ts";
import { encryptFleField } from "./fle-field.ts";
import { type FleHeader, parseFleHeader } from "./fle-header.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function sdkParse(message: Uint8Array): HeaderInfo | undefined {
  try {
    return deserializer.deserializeMessageHeader(message, { maxEncryptedDataKeys: 1 }) || undefined;
  } catch {
    return undefined;
  }
}

/** The fields both parsers produce, comparable. */
function fields(
  info: HeaderInfo,
  dataKey: { providerId: string; providerInfo: string; encryptedDataKey: Uint8Array },
) {
  const h = info.messageHeader as HeaderInfo["messageHeader"] & { type?: number; headerIvLength?: number };
  return {
    version: h.version,
    type: h.type,
    suiteId: h.suiteId,
    messageId: hex(h.messageId),
    context: { ...h.encryptionContext },
    keys: h.encryptedDataKeys.length,
    providerId: dataKey.providerId,
    providerInfo: dataKey.providerInfo,
    encryptedDataKey: hex(dataKey.encryptedDataKey),
    contentType: h.contentType,
    headerIvLength: h.headerIvLength,
    frameLength: h.frameLength,
    headerLength: info.headerLength,
    rawHeader: hex(info.rawHeader),
    suite: info.algorithmSuite.id,
    ivLength: info.algorithmSuite.ivLength,
    tagLength: info.algorithmSuite.tagLength,
    headerIv: hex(info.headerAuth.headerIv),
    headerAuthTag: hex(info.headerAuth.headerAuthTag),
    headerAuthLength: info.headerAuth.headerAuthLength,
  };
}

function expectAgreement(message: Uint8Array): FleHeader | undefined {
  const fast = parseFleHeader(message);
  if (!fast) return undefined;
  const sdk = sdkParse(message);
  expect(sdk, "accepted here, refused by the SDK").toBeDefined();
  expect(fields(fast.info, fast.dataKey)).toEqual(fields(sdk!, sdk!.messageHeader.encryptedDataKeys[0]!));
  return fast;
}

let publicKeyPem: string;
beforeAll(() => {
  publicKeyPem = generateFleKeyPair().publicKeyPem;
});

const names = fc.record({
  providerId: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
  keyName: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
});

describe("parseFleHeader", () => {
  it("reads CloudFront-shaped messages exactly as the SDK's parser", async () => {
    await fc.assert(
      fc.asyncProperty(names, fc.string({ maxLength: 9000 }), async (n, plaintext) => {
        const message = Buffer.from(await encryptFleField(plaintext, { publicKeyPem, ...n }), "base64");
        expect(expectAgreement(message)).toBeDefined();
      }),
      { numRuns: 40 },
    );
  });

  it("accepts no mutation or truncation that the SDK's parser refuses, nor reads one differently", async () => {
    const message = Buffer.from(
      await encryptFleField("x", { publicKeyPem, providerId: "veil-fle", keyName: "veil-fle-key" }),
      "base64",
    );
    const headerEnd = parseFleHeader(message)!.info.headerLength + 28;
    for (let i = 0; i < headerEnd; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(message);
        copy[i]! ^= flip;
        expectAgreement(copy);
      }
      for (const value of [0x00, 0x01, 0x02, 0x0c]) {
        const copy = Buffer.from(message);
        copy[i] = value;
        expectAgreement(copy);
      }
      expectAgreement(message.subarray(0, i));
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(headerEnd), (noise, at) => {
        expectAgreement(Buffer.concat([message.subarray(0, at), noise]));
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses an empty provider id, key name or wrapped key, as the SDK does", async () => {
    const message = Buffer.from(
      await encryptFleField("x", { publicKeyPem, providerId: "veil-fle", keyName: "veil-fle-key" }),
      "base64",
    );
    // Rebuild the data-key fields (uint16 length + bytes each, from byte 24) with one of them empty.
    const parts: Buffer[] = [];
    let at = 24;
    for (let i = 0; i < 3; i++) {
      const length = message.readUInt16BE(at);
      parts.push(message.subarray(at + 2, at + 2 + length));
      at += 2 + length;
    }
    for (let empty = 0; empty < 3; empty++) {
      const fieldsOut = parts.map((p, i) => (i === empty ? Buffer.alloc(0) : p));
      const rebuilt = Buffer.concat([
        message.subarray(0, 24),
        ...fieldsOut.flatMap((p) => [Buffer.from([p.byteLength >> 8, p.byteLength & 0xff]), p]),
        message.subarray(at),
      ]);
      expect(sdkParse(rebuilt)).toBeUndefined();
      expect(parseFleHeader(rebuilt)).toBeUndefined();
    }
  });

  it("leaves other shapes to the SDK's parser: an encryption context, another suite", async () => {
    const pair = generateFleKeyPair();
    const keyring = (name: string) =>
      new RawRsaKeyringNode({
        keyNamespace: "p",
        keyName: name,
        rsaKey: { publicKey: pair.publicKeyPem },
        oaepHash: "sha256",
      });
    const client = stockSdk.buildClient(stockSdk.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT);
    const withContext = await client.encrypt(keyring("k"), Buffer.from("x"), {
      suiteId: 0x0178,
      encryptionContext: { a: "b" },
    });
    const otherSuite = await client.encrypt(keyring("k"), Buffer.from("x"), { suiteId: 0x0078 });
    for (const { result } of [withContext, otherSuite]) {
      expect(parseFleHeader(result)).toBeUndefined();
      expect(sdkParse(result)).toBeDefined();
    }
  });
});
