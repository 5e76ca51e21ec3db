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
export const deserializer = deserializeFactory(toUtf8, NodeAlgorithmSuite);
export const bodyAad = aadFactory(fromUtf8);

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

/** A Buffer view (no copy) of a byte array. */
export function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
