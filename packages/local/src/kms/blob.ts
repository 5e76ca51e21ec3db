import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { invalidCiphertext } from "./errors.ts";

/**
 * The ciphertext blob of the local KMS (our own format; AWS's is opaque too):
 *
 * | bytes | field |
 * |---|---|
 * | 1 | format version, 0x01 |
 * | 1 | length L of the key id |
 * | L | key id (ASCII, the UUID of the key) |
 * | 4 | key material version, uint32 big-endian |
 * | 12 | AES-GCM IV |
 * | n | AES-256-GCM ciphertext |
 * | 16 | AES-GCM tag |
 *
 * The AAD is the header (everything before the IV) followed by the canonical encryption context, so a
 * changed key id, version or context fails authentication like a changed ciphertext does.
 */

const FORMAT_VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Where a blob says its key lives. */
export interface BlobHeader {
  readonly keyId: string;
  readonly materialVersion: number;
}

/** The encryption context as AAD: JSON of the entries sorted by key, so map order never matters. */
export function canonicalContext(context: Readonly<Record<string, string>> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)), "utf8");
}

function encodeHeader(header: BlobHeader): Buffer {
  const id = Buffer.from(header.keyId, "ascii");
  const out = Buffer.alloc(2 + id.length + 4);
  out[0] = FORMAT_VERSION;
  out[1] = id.length;
  id.copy(out, 2);
  out.writeUInt32BE(header.materialVersion, 2 + id.length);
  return out;
}

/** Encrypts `plaintext` under one key material version, binding the encryption context. */
export function sealBlob(
  header: BlobHeader,
  material: Buffer,
  plaintext: Uint8Array,
  context: Readonly<Record<string, string>> | undefined,
): Buffer {
  const head = encodeHeader(header);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", material, iv);
  cipher.setAAD(Buffer.concat([head, canonicalContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([head, iv, body, cipher.getAuthTag()]);
}

/** Reads the header of a blob; throws `InvalidCiphertextException` when it is not one of ours. */
export function readBlobHeader(blob: Uint8Array): BlobHeader & { readonly headerBytes: number } {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 2 || buf[0] !== FORMAT_VERSION) throw invalidCiphertext();
  const idLength = buf[1] ?? 0;
  const headerBytes = 2 + idLength + 4;
  if (idLength === 0 || buf.length < headerBytes + IV_BYTES + TAG_BYTES) throw invalidCiphertext();
  const keyId = buf.subarray(2, 2 + idLength).toString("ascii");
  if (!/^[0-9a-f-]{36}$/.test(keyId)) throw invalidCiphertext();
  return { keyId, materialVersion: buf.readUInt32BE(2 + idLength), headerBytes };
}

/** Decrypts a blob with the material its header names; throws `InvalidCiphertextException` on any mismatch. */
export function openBlob(
  blob: Uint8Array,
  material: Buffer,
  context: Readonly<Record<string, string>> | undefined,
): Buffer {
  const { headerBytes } = readBlobHeader(blob);
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const head = buf.subarray(0, headerBytes);
  const iv = buf.subarray(headerBytes, headerBytes + IV_BYTES);
  const body = buf.subarray(headerBytes + IV_BYTES, buf.length - TAG_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", material, iv);
    decipher.setAAD(Buffer.concat([head, canonicalContext(context)]));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw invalidCiphertext();
  }
}
