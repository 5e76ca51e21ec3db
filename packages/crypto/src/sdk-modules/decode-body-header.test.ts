/**
 * The frame and non-frame body-header parser without bn.js must return what the SDK's returns, or
 * throw the same message, for any bytes at any position.
 */
import { ContentType, type HeaderInfo, Maximum, SequenceIdentifier } from "@aws-crypto/serialize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeBodyHeader,
  decodeFinalFrameBodyHeader,
  decodeFrameBodyHeader,
  decodeNonFrameBodyHeader,
} from "./decode-body-header.ts";
import { original, outcome } from "./test-support.ts";

const sdk = original.decodeBodyHeader;
const ours = {
  decodeBodyHeader,
  decodeFrameBodyHeader,
  decodeFinalFrameBodyHeader,
  decodeNonFrameBodyHeader,
};
const functions = [
  "decodeBodyHeader",
  "decodeFrameBodyHeader",
  "decodeFinalFrameBodyHeader",
  "decodeNonFrameBodyHeader",
] as const;

function headerInfo(contentType: ContentType, frameLength: number, ivLength = 12): HeaderInfo {
  return {
    messageHeader: { contentType, frameLength },
    algorithmSuite: { ivLength, tagLength: 16 },
  } as unknown as HeaderInfo;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};

/** Byte strings that look like body headers: real markers and lengths mixed with noise. */
const bodyBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.constantFrom(
        u32(SequenceIdentifier.SEQUENCE_NUMBER_END),
        u32(0),
        u32(1),
        u32(4096),
        u64(0n),
        u64(BigInt(Maximum.BYTES_PER_AES_GCM_NONCE)),
        u64(BigInt(Maximum.BYTES_PER_AES_GCM_NONCE - 1)),
        u64(BigInt(Number.MAX_SAFE_INTEGER)),
        u64(2n ** 53n),
        u64(2n ** 64n - 1n),
      ),
    ),
    { maxLength: 6 },
  )
  .map((parts) => Buffer.concat(parts));

describe("decode_body_header replacement", () => {
  it("uses the SDK's constants", () => {
    expect(ContentType.NO_FRAMING).toBe(1);
    expect(ContentType.FRAMED_DATA).toBe(2);
    expect(SequenceIdentifier.SEQUENCE_NUMBER_END).toBe(0xffffffff);
    expect(Maximum.BYTES_PER_AES_GCM_NONCE).toBe(68719476704);
  });

  it("answers as the SDK for any bytes, position, content type and frame length", () => {
    fc.assert(
      fc.property(
        bodyBytes,
        fc.integer({ min: -2, max: 40 }),
        fc.constantFrom(ContentType.FRAMED_DATA, ContentType.NO_FRAMING),
        fc.constantFrom(0, 1, 512, 4096, 2 ** 32 - 1),
        fc.constantFrom(12, 0, 16),
        fc.constantFrom(...functions),
        (bytes, readPos, contentType, frameLength, ivLength, fn) => {
          const info = headerInfo(contentType, frameLength, ivLength);
          // A view into a larger buffer: the parsers must honour byteOffset.
          const view = Buffer.concat([Buffer.from([0xee, 0xee]), bytes]).subarray(2);
          expect(outcome(() => ours[fn](view, info, readPos))).toEqual(
            outcome(() => sdk[fn](view, info, readPos)),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads a non-framed content length up to 2^53 − 1 and refuses one beyond, like bn.js", () => {
    const info = headerInfo(ContentType.NO_FRAMING, 0);
    for (const length of [
      0n,
      1n,
      2n ** 32n,
      BigInt(Maximum.BYTES_PER_AES_GCM_NONCE) - 1n,
      2n ** 52n,
      2n ** 53n - 1n,
      2n ** 53n,
    ]) {
      const bytes = Buffer.concat([Buffer.alloc(12, 7), u64(length)]);
      expect(outcome(() => ours.decodeNonFrameBodyHeader(bytes, info, 0))).toEqual(
        outcome(() => sdk.decodeNonFrameBodyHeader(bytes, info, 0)),
      );
    }
    const tooLong = Buffer.concat([Buffer.alloc(12), u64(2n ** 53n)]);
    expect(() => ours.decodeNonFrameBodyHeader(tooLong, info, 0)).toThrow("53 bits");
  });

  it("refuses an unknown content type", () => {
    const info = headerInfo(3 as ContentType, 4096);
    expect(outcome(() => ours.decodeBodyHeader(Buffer.alloc(40), info, 0))).toEqual(
      outcome(() => sdk.decodeBodyHeader(Buffer.alloc(40), info, 0)),
    );
  });
});
