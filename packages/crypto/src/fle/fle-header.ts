/**
 * The header of a CloudFront FLE message, read directly for the one shape CloudFront writes: format
 * v1, suite 0x0178, no encryption context, exactly one data key, framed content, 12-byte IVs. The
 * SDK's parser builds and freezes an `EncryptedDataKey`, copies every part and checks every suite:
 * ~3 µs per value, and more next to the RSA decrypt that each value costs (the two evict each other's
 * caches: work between two RSA decrypts costs about twice what it costs alone). Anything else —
 * another version, suite, context, key count, content type, a non-zero reserved byte, a short
 * buffer — returns `undefined` and goes through the SDK's parser (`parseHeader`), so every refusal
 * stays the SDK's. `fle-header.test.ts` checks that what this accepts, the SDK accepts with equal
 * fields, on CloudFront-shaped messages and on every mutation and truncation of them.
 */
import type { HeaderInfo } from "@aws-crypto/serialize";
import { suiteFor } from "../message/format.ts";
import { fleSuite } from "../suites.ts";

/** Suite 0x0178: 12-byte IVs, 16-byte tags. */
const ivBytes = 12;
const tagBytes = 16;
/** Version, type, suite id, message id, context length. */
const fixedStart = 1 + 1 + 2 + 16 + 2;

/** The one wrapped data key of an FLE message. */
export interface FleDataKey {
  readonly providerId: string;
  readonly providerInfo: string;
  readonly encryptedDataKey: Uint8Array;
}

/** A header as `parseHeader` returns it, plus its data key. Views into `message`, not copies. */
export interface FleHeader {
  readonly info: HeaderInfo;
  readonly dataKey: FleDataKey;
}

const emptyContext = Object.freeze(Object.create(null) as Record<string, string>);

/** Reads one uint16-length-prefixed, non-empty field at `at`; `undefined` when out of bounds or empty. */
function field(message: Uint8Array, view: DataView, at: number): Uint8Array | undefined {
  if (at + 2 > message.byteLength) return undefined;
  const length = view.getUint16(at);
  if (length === 0 || at + 2 + length > message.byteLength) return undefined;
  return message.subarray(at + 2, at + 2 + length);
}

const utf8 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");

/** The header of `message` if it has CloudFront's exact shape, else `undefined` (use the SDK's parser). */
export function parseFleHeader(message: Uint8Array): FleHeader | undefined {
  if (message.byteLength < fixedStart + 2) return undefined;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  if (message[0] !== 1 || message[1] !== 0x80 || view.getUint16(2) !== fleSuite) return undefined;
  // No encryption context (CloudFront writes none), then exactly one data key.
  if (view.getUint16(20) !== 0 || view.getUint16(22) !== 1) return undefined;
  const rawId = field(message, view, 24);
  if (!rawId) return undefined;
  const rawInfo = field(message, view, 26 + rawId.byteLength);
  if (!rawInfo) return undefined;
  const encryptedDataKey = field(message, view, 28 + rawId.byteLength + rawInfo.byteLength);
  if (!encryptedDataKey) return undefined;
  // Content type (framed), 4 reserved zero bytes, IV length, frame length; then the header IV and tag.
  const at = 30 + rawId.byteLength + rawInfo.byteLength + encryptedDataKey.byteLength;
  const headerLength = at + 1 + 4 + 1 + 4;
  if (headerLength + ivBytes + tagBytes > message.byteLength) return undefined;
  if (message[at] !== 2 || view.getUint32(at + 1) !== 0 || message[at + 5] !== ivBytes) return undefined;
  const headerIv = message.subarray(headerLength, headerLength + ivBytes);
  const headerAuthTag = message.subarray(headerLength + ivBytes, headerLength + ivBytes + tagBytes);
  const dataKey = { providerId: utf8(rawId), providerInfo: utf8(rawInfo), encryptedDataKey };
  const info = {
    messageHeader: {
      version: 1,
      type: 0x80,
      suiteId: fleSuite,
      messageId: message.subarray(4, 20),
      encryptionContext: emptyContext,
      encryptedDataKeys: [dataKey],
      contentType: 2,
      headerIvLength: ivBytes,
      frameLength: view.getUint32(at + 6),
    },
    headerLength,
    rawHeader: message.subarray(0, headerLength),
    algorithmSuite: suiteFor(fleSuite),
    headerAuth: { headerIv, headerAuthTag, headerAuthLength: ivBytes + tagBytes },
  } as unknown as HeaderInfo;
  return { info, dataKey };
}
