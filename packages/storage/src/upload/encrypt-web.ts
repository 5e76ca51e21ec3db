/**
 * The browser's upload encryptor: WebCrypto only (no Node.js, no Encryption SDK), writing the exact
 * message the Encryption SDK writes for suite 0x0178 with a raw RSA-OAEP-SHA256 keyring (see README
 * "Upload format"). Tests check every output with the SDK's own decryptor and against the length the
 * API signs. Also runs on Node.js ≥ 20 (`globalThis.crypto`).
 */
import { uploadCiphertextLength, uploadFrameLength, uploadMaxFrameLength, uploadSuiteId } from "./format.ts";

/** The public key and names the API hands out with an upload URL. */
export interface UploadPublicKey {
  /** SPKI PEM of the RSA public key. */
  readonly pem: string;
  readonly providerId: string;
  readonly keyName: string;
}

export interface EncryptUploadOptions {
  readonly publicKey: UploadPublicKey;
  /** The encryption context the API asked for (`{ "veil:image-id": imageId }`). */
  readonly context: Readonly<Record<string, string>>;
  /** The frame length the API asked for; default 64 KiB. */
  readonly frameLength?: number;
}

type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const frameAad = encoder.encode("AWSKMSEncryptionClient Frame");
const finalFrameAad = encoder.encode("AWSKMSEncryptionClient Final Frame");
const endOfSequence = 0xffffffff;

function pemToDer(pem: string): Bytes {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  const text = atob(body);
  const der = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) der[i] = text.charCodeAt(i);
  return der;
}

/** A growable big-endian writer over a fixed buffer. */
class Writer {
  offset = 0;
  constructor(readonly bytes: Bytes) {}
  private view = (n: number) => new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, n);
  u8(v: number) {
    this.bytes[this.offset++] = v;
  }
  u16(v: number) {
    this.view(2).setUint16(0, v);
    this.offset += 2;
  }
  u32(v: number) {
    this.view(4).setUint32(0, v);
    this.offset += 4;
  }
  put(b: Uint8Array) {
    this.bytes.set(b, this.offset);
    this.offset += b.byteLength;
  }
  /** A 16-bit length, then the bytes. */
  lengthPrefixed(b: Uint8Array) {
    this.u16(b.byteLength);
    this.put(b);
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

/** The serialized encryption context: pairs sorted by the UTF-8 bytes of their keys. */
function serializeContext(context: Readonly<Record<string, string>>): Bytes {
  const pairs = Object.entries(context)
    .map(([k, v]) => [encoder.encode(k), encoder.encode(v)] as const)
    .sort((a, b) => compareBytes(a[0], b[0]));
  if (pairs.length === 0) return new Uint8Array(0);
  const size = 2 + pairs.reduce((n, [k, v]) => n + 4 + k.length + v.length, 0);
  const w = new Writer(new Uint8Array(size));
  w.u16(pairs.length);
  for (const [k, v] of pairs) {
    w.lengthPrefixed(k);
    w.lengthPrefixed(v);
  }
  return w.bytes;
}

function frameIv(sequenceNumber: number): Bytes {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setUint32(8, sequenceNumber);
  return iv;
}

/** Body AAD of a frame: message id, frame kind, sequence number, content length (64-bit). */
function bodyAad(messageId: Bytes, final: boolean, sequenceNumber: number, contentLength: number): Bytes {
  const kind = final ? finalFrameAad : frameAad;
  const w = new Writer(new Uint8Array(messageId.length + kind.length + 4 + 8));
  w.put(messageId);
  w.put(kind);
  w.u32(sequenceNumber);
  w.u32(Math.floor(contentLength / 2 ** 32));
  w.u32(contentLength >>> 0);
  return w.bytes;
}

/**
 * Encrypts `plaintext` for upload. Returns the complete message; its length is exactly
 * `uploadCiphertextLength(plaintext.byteLength, …)`, the length the presigned PUT is signed for.
 */
export async function encryptUpload(plaintext: Uint8Array, options: EncryptUploadOptions): Promise<Bytes> {
  const subtle = globalThis.crypto.subtle;
  const frameLength = options.frameLength ?? uploadFrameLength;
  if (!Number.isInteger(frameLength) || frameLength < 1 || frameLength > uploadMaxFrameLength) {
    throw new RangeError("frameLength out of range");
  }
  const { publicKey } = options;
  const rsa = await subtle.importKey(
    "spki",
    pemToDer(publicKey.pem),
    { name: "RSA-OAEP", hash: "SHA-256" },
    false,
    ["encrypt"],
  );
  const modulusBytes = (rsa.algorithm as unknown as { modulusLength: number }).modulusLength / 8;
  const dataKey = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const messageId = globalThis.crypto.getRandomValues(new Uint8Array(16));
  try {
    const wrappedKey = new Uint8Array(await subtle.encrypt({ name: "RSA-OAEP" }, rsa, dataKey));
    const info = new Uint8Array(2 + messageId.length);
    new DataView(info.buffer).setUint16(0, uploadSuiteId);
    info.set(messageId, 2);
    const hkdfKey = await subtle.importKey("raw", dataKey, "HKDF", false, ["deriveKey"]);
    const aesKey = await subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info },
      hkdfKey,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt"],
    );
    const seal = async (iv: Bytes, aad: Bytes, content: Uint8Array) =>
      new Uint8Array(
        await subtle.encrypt(
          { name: "AES-GCM", iv, additionalData: aad, tagLength: 128 },
          aesKey,
          content as Bytes,
        ),
      );

    const total = uploadCiphertextLength(plaintext.byteLength, {
      providerId: publicKey.providerId,
      keyName: publicKey.keyName,
      modulusBytes,
      context: options.context,
      frameLength,
    });
    const out = new Writer(new Uint8Array(total));
    const aad = serializeContext(options.context);
    out.u8(0x01); // format version 1
    out.u8(0x80); // type: customer authenticated encrypted data
    out.u16(uploadSuiteId);
    out.put(messageId);
    out.lengthPrefixed(aad);
    out.u16(1); // one encrypted data key
    out.lengthPrefixed(encoder.encode(publicKey.providerId));
    out.lengthPrefixed(encoder.encode(publicKey.keyName));
    out.lengthPrefixed(wrappedKey);
    out.u8(0x02); // framed content
    out.u32(0); // reserved
    out.u8(12); // IV length
    out.u32(frameLength);
    const header = out.bytes.slice(0, out.offset);
    out.put(new Uint8Array(12)); // header auth IV: zeros
    out.put(await seal(new Uint8Array(12), header, new Uint8Array(0)));

    let offset = 0;
    for (let sequenceNumber = 1; ; sequenceNumber++) {
      const final = plaintext.byteLength - offset < frameLength;
      const length = final ? plaintext.byteLength - offset : frameLength;
      const iv = frameIv(sequenceNumber);
      if (final) out.u32(endOfSequence);
      out.u32(sequenceNumber);
      out.put(iv);
      if (final) out.u32(length);
      // WebCrypto returns ciphertext || tag, the frame's layout.
      out.put(
        await seal(
          iv,
          bodyAad(messageId, final, sequenceNumber, length),
          plaintext.subarray(offset, offset + length),
        ),
      );
      offset += length;
      if (final) break;
    }
    if (out.offset !== total) throw new Error("upload message length mismatch");
    return out.bytes;
  } finally {
    dataKey.fill(0);
  }
}
