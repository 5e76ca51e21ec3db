/**
 * Drop-in replacement of `@aws-crypto/serialize`'s `decode_body_header` module (same exports, same
 * results, same preconditions in the same order) without `bn.js`: the 64-bit content length of a
 * non-framed body is read with `DataView.getBigUint64`. Swapped in at bundle time by
 * `esbuild-plugin.mjs`; `decode-body-header.test.ts` compares it with the original.
 *
 * See:
 * https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html#body-framing
 * https://docs.aws.amazon.com/encryption-sdk/latest/developer-guide/message-format.html#body-no-framing
 */
import type {
  BodyHeader,
  ContentType,
  FrameBodyHeader,
  HeaderInfo,
  NonFrameBodyHeader,
} from "@aws-crypto/serialize";
import { needs } from "./needs.ts";

// The SDK's constants (identifiers.ts); the test checks them against the SDK's.
const NO_FRAMING = 1 as ContentType.NO_FRAMING;
const FRAMED_DATA = 2 as ContentType.FRAMED_DATA;
const SEQUENCE_NUMBER_END = 0xffffffff;
/** Maximum.BYTES_PER_AES_GCM_NONCE: 2^36 − 32. */
const BYTES_PER_AES_GCM_NONCE = 68719476704;

function dataViewOf(buffer: Uint8Array): DataView {
  /* The offset and length *must* be passed to the DataView: a Buffer is a view on a larger pool. */
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/**
 * Parses the body header at `readPos`, or returns `false` when `buffer` does not hold all of it yet
 * (the caller appends and calls again with the same `readPos`).
 */
export function decodeBodyHeader(
  buffer: Uint8Array,
  headerInfo: HeaderInfo,
  readPos: number,
): BodyHeader | false {
  const { contentType } = headerInfo.messageHeader;
  /* Precondition: The contentType must be a supported format. */
  needs(contentType === FRAMED_DATA || contentType === NO_FRAMING, "Unknown contentType");
  switch (contentType) {
    case FRAMED_DATA:
      return decodeFrameBodyHeader(buffer, headerInfo, readPos);
    case NO_FRAMING:
      return decodeNonFrameBodyHeader(buffer, headerInfo, readPos);
  }
  return false;
}

/** The header of a regular frame (or of the final frame, by its sequence number marker). */
export function decodeFrameBodyHeader(
  buffer: Uint8Array,
  headerInfo: HeaderInfo,
  readPos: number,
): FrameBodyHeader | false {
  /* Precondition: The contentType must be FRAMED_DATA. */
  needs(FRAMED_DATA === headerInfo.messageHeader.contentType, "Unknown contentType");
  const { frameLength } = headerInfo.messageHeader;
  const { ivLength, tagLength } = headerInfo.algorithmSuite;
  const dataView = dataViewOf(buffer);
  /* Precondition: decodeFrameBodyHeader readPos must be within the byte length of the buffer given. */
  needs(dataView.byteLength >= readPos && readPos >= 0, "readPos out of bounds.");
  /* Check for early return (Postcondition): There must be enough data to decodeFrameBodyHeader.
   * SequenceIdentifier: Uint32, IV: ivLength. The final frame is a special case.
   */
  if (4 + ivLength + readPos > dataView.byteLength) return false;
  const sequenceNumber = dataView.getUint32(readPos);
  /* Postcondition: decodeFrameBodyHeader sequenceNumber must be greater than 0. */
  needs(sequenceNumber > 0, "Malformed sequenceNumber.");
  if (sequenceNumber === SEQUENCE_NUMBER_END) {
    return decodeFinalFrameBodyHeader(buffer, headerInfo, readPos);
  }
  const ivStart = readPos + 4;
  const iv = buffer.slice(ivStart, ivStart + ivLength);
  return {
    sequenceNumber,
    iv,
    contentLength: frameLength,
    readPos: ivStart + ivLength,
    tagLength,
    isFinalFrame: false,
    contentType: FRAMED_DATA,
  };
}

/** The header of the final frame: end marker, sequence number, IV, content length. */
export function decodeFinalFrameBodyHeader(
  buffer: Uint8Array,
  headerInfo: HeaderInfo,
  readPos: number,
): FrameBodyHeader | false {
  /* Precondition: The contentType must be FRAMED_DATA to be a Final Frame. */
  needs(FRAMED_DATA === headerInfo.messageHeader.contentType, "Unknown contentType");
  const { ivLength, tagLength } = headerInfo.algorithmSuite;
  const dataView = dataViewOf(buffer);
  /* Precondition: decodeFinalFrameBodyHeader readPos must be within the byte length of the buffer given. */
  needs(dataView.byteLength >= readPos && readPos >= 0, "readPos out of bounds.");
  /* Check for early return (Postcondition): There must be enough data to decodeFinalFrameBodyHeader.
   * SEQUENCE_NUMBER_END: Uint32, SequenceIdentifier: Uint32, IV: ivLength, ContentLength: Uint32
   */
  if (4 + 4 + ivLength + 4 + readPos > dataView.byteLength) return false;
  const sequenceEnd = dataView.getUint32(readPos, false);
  /* Postcondition: sequenceEnd must be SEQUENCE_NUMBER_END. */
  needs(sequenceEnd === SEQUENCE_NUMBER_END, "Malformed final frame: Invalid sequence number end value");
  const sequenceNumber = dataView.getUint32(readPos + 4, false);
  /* Postcondition: decodeFinalFrameBodyHeader sequenceNumber must be greater than 0. */
  needs(sequenceNumber > 0, "Malformed sequenceNumber.");
  const ivStart = readPos + 8;
  const iv = buffer.slice(ivStart, ivStart + ivLength);
  const pos = ivStart + ivLength;
  const contentLength = dataView.getUint32(pos);
  /* Postcondition: The final frame MUST NOT exceed the frameLength. */
  needs(headerInfo.messageHeader.frameLength >= contentLength, "Final frame length exceeds frame length.");
  return {
    sequenceNumber,
    iv,
    contentLength,
    readPos: pos + 4,
    tagLength,
    isFinalFrame: true,
    contentType: FRAMED_DATA,
  };
}

/** The header of a non-framed body: IV and a 64-bit content length. */
export function decodeNonFrameBodyHeader(
  buffer: Uint8Array,
  headerInfo: HeaderInfo,
  readPos: number,
): NonFrameBodyHeader | false {
  /* Precondition: The contentType must be NO_FRAMING. */
  needs(NO_FRAMING === headerInfo.messageHeader.contentType, "Unknown contentType");
  const { ivLength, tagLength } = headerInfo.algorithmSuite;
  const dataView = dataViewOf(buffer);
  /* Precondition: decodeNonFrameBodyHeader readPos must be within the byte length of the buffer given. */
  needs(dataView.byteLength >= readPos && readPos >= 0, "readPos out of bounds.");
  /* Check for early return (Postcondition): There must be enough data to decodeNonFrameBodyHeader.
   * IV: ivLength, ContentLength: Uint64
   */
  if (ivLength + 8 + readPos > dataView.byteLength) return false;
  const iv = buffer.slice(readPos, readPos + ivLength);
  const pos = readPos + ivLength + 8;
  const contentLength64 = dataView.getBigUint64(readPos + ivLength, false);
  // Like bn.js's toNumber(): a length beyond 53 bits cannot be a JS number.
  needs(contentLength64 <= BigInt(Number.MAX_SAFE_INTEGER), "Number can only safely store up to 53 bits");
  const contentLength = Number(contentLength64);
  /* Postcondition: Non-framed content length MUST NOT exceed AES-GCM safe limits.
   * https://github.com/awslabs/aws-encryption-sdk-specification/blob/master/data-format/message-body.md#encrypted-content-length
   */
  needs(BYTES_PER_AES_GCM_NONCE > contentLength, "Content length out of bounds.");
  return {
    sequenceNumber: 1,
    iv,
    contentLength,
    readPos: pos,
    tagLength,
    isFinalFrame: true,
    contentType: NO_FRAMING,
  };
}
