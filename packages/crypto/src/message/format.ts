/**
 * The Encryption SDK message format helpers, instantiated once: header (de)serialisation, frame
 * headers and body AAD from `@aws-crypto/serialize`, the same functions the SDK's streams call.
 */
import { NodeAlgorithmSuite } from "@aws-crypto/material-management-node";
import { aadFactory, deserializeFactory, serializeFactory } from "@aws-crypto/serialize";

const fromUtf8 = (input: string) => Buffer.from(input, "utf8");
const toUtf8 = (input: Uint8Array) =>
  Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("utf8");

export const serializer = serializeFactory(fromUtf8, { utf8Sorting: true });
export const bodyAad = aadFactory(fromUtf8);

const contentStrings = new Map<string, Buffer>();

/**
 * The AAD of one frame, as `bodyAad.messageAAD` builds it — message id ‖ UTF-8 content string ‖
 * sequence number (uint32 BE) ‖ content length (uint64 BE) — in one buffer instead of four and a
 * bignum: it runs for every frame of every message (the tests compare it with the SDK's).
 */
export function frameAad(
  messageId: Uint8Array,
  contentString: string,
  sequenceNumber: number,
  contentLength: number,
): Buffer {
  let label = contentStrings.get(contentString);
  if (!label) {
    label = fromUtf8(contentString);
    if (contentStrings.size < 8) contentStrings.set(contentString, label);
  }
  const aad = Buffer.allocUnsafe(messageId.byteLength + label.byteLength + 12);
  aad.set(messageId, 0);
  aad.set(label, messageId.byteLength);
  const at = messageId.byteLength + label.byteLength;
  // Both throw a RangeError outside uint32 / non-negative safe integers, like the SDK's preconditions.
  aad.writeUInt32BE(sequenceNumber, at);
  aad.writeBigUInt64BE(BigInt(contentLength), at + 4);
  return aad;
}

const suites = new Map<number, NodeAlgorithmSuite>();

/** Algorithm suite objects are immutable; one per id avoids rebuilding them per message. */
export function suiteFor(id: number): NodeAlgorithmSuite {
  let suite = suites.get(id);
  if (!suite) {
    suite = new NodeAlgorithmSuite(id as never);
    suites.set(id, suite);
  }
  return suite;
}

/**
 * What the header parser constructs the suite with (`new SdkSuite(id)`): returns the shared,
 * immutable instance of `suiteFor` instead of building and freezing a new one per message (a
 * constructor that returns an object yields that object). Unknown ids still throw in
 * `NodeAlgorithmSuite`, after the parser's own check.
 */
function SharedSuite(id: number): NodeAlgorithmSuite {
  return suiteFor(id);
}

export const deserializer = deserializeFactory(toUtf8, SharedSuite as unknown as typeof NodeAlgorithmSuite);

/** A Buffer view (no copy) of a byte array. */
export function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
