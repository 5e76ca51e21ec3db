/** Our header serialiser must write the SDK's bytes for any header, and refuse what it refuses. */
import { EncryptedDataKey } from "@aws-crypto/material-management-node";
import type { MessageHeader } from "@aws-crypto/serialize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serializer } from "./format.ts";
import { serializeHeader } from "./header.ts";

function outcome(call: () => Uint8Array): string {
  try {
    return Buffer.from(call()).toString("hex");
  } catch {
    return "throws";
  }
}

const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
  fc.constantFrom(
    "app",
    "stage",
    "ownerId",
    "recordId",
    "purpose",
    "aws-crypto-public-key",
    "é",
    "e\u0301",
    "ß",
  ),
);

const dataKey = fc
  .record({
    providerId: text,
    providerInfo: text,
    encryptedDataKey: fc.uint8Array({ minLength: 1, maxLength: 300 }),
    raw: fc.boolean(),
  })
  .map(
    ({ providerId, providerInfo, encryptedDataKey, raw }) =>
      new EncryptedDataKey({
        providerId,
        providerInfo,
        encryptedDataKey,
        ...(raw ? { rawInfo: Buffer.from(providerInfo, "utf8") } : {}),
      }),
  );

const common = {
  encryptionContext: fc.dictionary(text, fc.oneof(text, fc.constant("")), { maxKeys: 8 }),
  encryptedDataKeys: fc.array(dataKey, { minLength: 1, maxLength: 3 }),
  contentType: fc.constantFrom(1, 2),
  frameLength: fc.oneof(fc.constantFrom(0, 4096, 2 ** 32 - 1), fc.nat({ max: 2 ** 32 - 1 })),
};

const headerV1 = fc.record({
  version: fc.constant(1),
  type: fc.constant(128),
  suiteId: fc.constantFrom(0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378),
  messageId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  headerIvLength: fc.constant(12),
  ...common,
});

const headerV2 = fc.record({
  version: fc.constant(2),
  suiteId: fc.constantFrom(0x0478, 0x0578),
  messageId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  suiteData: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  ...common,
});

describe("serializeHeader", () => {
  it("writes the SDK's bytes for any v1 or v2 header (context sorted by UTF-8 key bytes)", () => {
    fc.assert(
      fc.property(fc.oneof(headerV1, headerV2), (h) => {
        const header = h as unknown as MessageHeader;
        const ours = outcome(() => serializeHeader(header));
        expect(ours).not.toBe("throws");
        expect(ours).toBe(outcome(() => serializer.serializeMessageHeader(header)));
        // Again: the data-key bytes now come from the cache (one key) and must not change.
        expect(outcome(() => serializeHeader(header))).toBe(ours);
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses what the SDK refuses: lengths beyond 16 bits, unknown versions", () => {
    const edk = new EncryptedDataKey({
      providerId: "p",
      providerInfo: "i",
      encryptedDataKey: new Uint8Array(8),
    });
    const base = {
      version: 2,
      suiteId: 0x0478,
      messageId: new Uint8Array(32),
      encryptionContext: {},
      encryptedDataKeys: [edk],
      contentType: 2,
      frameLength: 4096,
      suiteData: new Uint8Array(32),
    };
    const cases = [
      { ...base, encryptionContext: { big: "x".repeat(70_000) } },
      {
        ...base,
        encryptionContext: Object.fromEntries(
          Array.from({ length: 20 }, (_, i) => [`k${i}`, "v".repeat(4000)]),
        ),
      },
      {
        ...base,
        encryptedDataKeys: [
          new EncryptedDataKey({
            providerId: "p",
            providerInfo: "i",
            encryptedDataKey: new Uint8Array(70_000),
          }),
        ],
      },
      { ...base, version: 3 },
      { ...base, frameLength: 2 ** 32 },
    ];
    for (const h of cases) {
      const header = h as unknown as MessageHeader;
      expect(outcome(() => serializeHeader(header))).toBe("throws");
      expect(outcome(() => serializer.serializeMessageHeader(header))).toBe("throws");
    }
  });
});
