/**
 * One FLE value as it arrives: base64 (possibly damaged by a form encoder) of an Encryption SDK
 * message. Decoded with `Buffer.from(…, "base64")` and recognised by the SDK's own header parser.
 */
import { NodeAlgorithmSuite } from "@aws-crypto/material-management-node";
import { deserializeFactory, type HeaderInfo } from "@aws-crypto/serialize";
import { FleDecryptError } from "../errors.ts";
import { fleSuite } from "../suites.ts";

/** Largest FLE message accepted: a 16 KB field plus header and framing fits with room to spare. */
export const maxFleMessageBytes = 64 * 1024;

/** Longest base64 text of a message of `maxFleMessageBytes` (plus a little slack for line breaks). */
export const maxFleValueChars = Math.ceil(maxFleMessageBytes / 3) * 4 + 64;

const base64Chars = /^[A-Za-z0-9+/\-_=\s]+$/;

/**
 * The bytes of a base64 value, or `undefined` when it has characters no base64 variant has. Node's
 * decoder takes the standard and url-safe alphabets, with or without padding, and skips line breaks;
 * a space can only be a `+` that a form decoder turned into one, so it is put back first.
 */
export function decodeFleValue(value: string): Buffer | undefined {
  if (!base64Chars.test(value)) return undefined;
  const bytes = Buffer.from(value.replaceAll(" ", "+"), "base64");
  return bytes.byteLength > 0 ? bytes : undefined;
}

const deserialize = deserializeFactory(
  (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"),
  NodeAlgorithmSuite,
);

/** The header of the Encryption SDK message `bytes` start with, or `undefined` if they hold none. */
export function readMessageHeader(bytes: Uint8Array): HeaderInfo | undefined {
  try {
    return deserialize.deserializeMessageHeader(bytes, { maxEncryptedDataKeys: false }) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * CloudFront's shape, checked before any RSA work: suite 0x0178, exactly one encrypted data key and no
 * encryption context (CloudFront writes none). The materials manager checks them again on decrypt.
 */
export function assertCloudFrontShape(header: HeaderInfo, field?: string): void {
  if (header.algorithmSuite.id !== fleSuite) throw new FleDecryptError("unsupportedSuite", field);
  if (header.messageHeader.encryptedDataKeys.length !== 1) {
    throw new FleDecryptError("undecryptable", field);
  }
  if (Object.keys(header.messageHeader.encryptionContext).length > 0) {
    throw new FleDecryptError("undecryptable", field);
  }
}
