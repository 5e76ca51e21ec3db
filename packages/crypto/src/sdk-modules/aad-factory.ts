/**
 * Drop-in replacement of `@aws-crypto/serialize`'s `aad_factory` module (same export, same bytes)
 * without `bn.js`: the frame AAD's 64-bit content length is written with `DataView.setBigUint64`
 * instead of a bignum. Swapped in at bundle time by `esbuild-plugin.mjs`; `aad-factory.test.ts`
 * compares it with the original.
 *
 * This public interface for constructing the additional authenticated data (AAD)
 * is provided for the use of the Encryption SDK for JavaScript only.
 * See: https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/body-aad-reference.html
 */
import type { BinaryData, ContentAADString, ContentType } from "@aws-crypto/serialize";
import { needs } from "./needs.ts";

// The SDK's enum values (identifiers.ts); importing them would import the package this module is
// part of. The test checks them against the SDK's.
const NO_FRAMING = 1 as ContentType.NO_FRAMING;
const FRAMED_DATA = 2 as ContentType.FRAMED_DATA;
const FRAME_STRING_ID = "AWSKMSEncryptionClient Frame" as ContentAADString.FRAME_STRING_ID;
const FINAL_FRAME_STRING_ID = "AWSKMSEncryptionClient Final Frame" as ContentAADString.FINAL_FRAME_STRING_ID;
const NON_FRAMED_STRING_ID = "AWSKMSEncryptionClient Single Block" as ContentAADString.NON_FRAMED_STRING_ID;

function view(buff: BinaryData): Uint8Array {
  return ArrayBuffer.isView(buff)
    ? new Uint8Array(buff.buffer, buff.byteOffset, buff.byteLength)
    : new Uint8Array(buff);
}

/** The body AAD functions over a UTF-8 encoder. */
export function aadFactory(fromUtf8: (input: string) => Uint8Array) {
  return {
    messageAADContentString,
    messageAAD,
  };

  function messageAADContentString({
    contentType,
    isFinalFrame,
  }: {
    contentType: ContentType;
    isFinalFrame: boolean;
  }): ContentAADString {
    switch (contentType) {
      case NO_FRAMING:
        return NON_FRAMED_STRING_ID;
      case FRAMED_DATA:
        return isFinalFrame ? FINAL_FRAME_STRING_ID : FRAME_STRING_ID;
      default:
        throw new Error("Unrecognized content type");
    }
  }

  /** message id ‖ UTF-8 content string ‖ sequence number (uint32 BE) ‖ content length (uint64 BE). */
  function messageAAD(
    messageId: BinaryData,
    aadContentString: ContentAADString,
    seqNum: number,
    contentLength: number,
  ): Uint8Array {
    const id = view(messageId);
    const label = fromUtf8(aadContentString);
    /* Precondition: Number must be 0-(2^32 - 1). (the SDK's uInt32BE) */
    needs(seqNum < 2 ** 32 && seqNum >= 0, "number out of bounds.");
    // bn.js refuses numbers from 2^53 on; it would truncate fractions, drop the sign and read NaN as 0,
    // which no caller can want: refused here too.
    needs(Number.isSafeInteger(contentLength) && contentLength >= 0, "content length out of bounds.");
    const out = new Uint8Array(id.byteLength + label.byteLength + 12);
    out.set(id, 0);
    out.set(label, id.byteLength);
    const at = id.byteLength + label.byteLength;
    const dataView = new DataView(out.buffer);
    dataView.setUint32(at, seqNum, false);
    dataView.setBigUint64(at + 4, BigInt(contentLength), false);
    return out;
  }
}
