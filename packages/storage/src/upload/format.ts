/**
 * The format of an encrypted image upload (see README "Upload format"): an AWS Encryption SDK message,
 * format version 1, algorithm suite 0x0178 — what CloudFront field-level encryption writes — framed,
 * with one data key wrapped by the FLE public key (RSA-OAEP-SHA256), and the image id as encryption
 * context. No imports: the browser encryptor uses this file too.
 */

/** AES-256-GCM, HKDF-SHA256, no key commitment, no signature: CloudFront FLE's suite. */
export const uploadSuiteId = 0x0178;

/** Frame length the API hands out (and signs the upload length for). */
export const uploadFrameLength = 64 * 1024;

/** Largest frame the ingest accepts: what it buffers at most to authenticate a frame. */
export const uploadMaxFrameLength = 1024 * 1024;

/** The one encryption context key of an upload. */
export const uploadContextKey = "veil:image-id";

/** The encryption context an upload for `imageId` must carry, exactly. */
export function uploadEncryptionContext(imageId: string): Record<string, string> {
  return { [uploadContextKey]: imageId };
}

/** The public key and names the API hands out with an upload URL. */
export interface UploadPublicKey {
  /** SPKI PEM of the RSA public key. */
  readonly pem: string;
  /** The FLE provider id (Encryption SDK key namespace). */
  readonly providerId: string;
  /** The FLE public key's name (Encryption SDK key name). */
  readonly keyName: string;
}

/** What an upload is encrypted to and for. */
export interface EncryptUploadOptions {
  readonly publicKey: UploadPublicKey;
  /** The encryption context the API asked for (`{ "veil:image-id": imageId }`). */
  readonly context: Readonly<Record<string, string>>;
  /** The frame length the API asked for; default `uploadFrameLength`. */
  readonly frameLength?: number;
}

/** What determines the length of an upload message besides the plaintext. */
export interface UploadLayout {
  /** The FLE provider id (Encryption SDK key namespace). */
  readonly providerId: string;
  /** The FLE public key's name (Encryption SDK key name). */
  readonly keyName: string;
  /** Bytes of the RSA modulus: the wrapped data key's length (256 for RSA-2048). */
  readonly modulusBytes: number;
  readonly context: Readonly<Record<string, string>>;
  /** Default `uploadFrameLength`. */
  readonly frameLength?: number;
}

const utf8Length = (s: string) => new TextEncoder().encode(s).byteLength;

/** Bytes of the message header plus its authentication (IV + tag). */
export function uploadHeaderLength(layout: UploadLayout): number {
  const pairs = Object.entries(layout.context);
  const aad =
    pairs.length === 0 ? 0 : 2 + pairs.reduce((n, [k, v]) => n + 2 + utf8Length(k) + 2 + utf8Length(v), 0);
  const edk = 2 + utf8Length(layout.providerId) + 2 + utf8Length(layout.keyName) + 2 + layout.modulusBytes;
  // version, type, suite id, message id, AAD length + AAD, EDK count + EDK, content type, reserved,
  // IV length, frame length; then the header auth IV and tag.
  return 1 + 1 + 2 + 16 + 2 + aad + 2 + edk + 1 + 4 + 1 + 4 + 12 + 16;
}

/** Bytes a full frame adds to its content: sequence number, IV, tag. */
const frameOverhead = 4 + 12 + 16;
/** Bytes a final frame adds to its content: end marker, sequence number, IV, content length, tag. */
const finalFrameOverhead = 4 + 4 + 12 + 4 + 16;
const endOfSequence = 0xffffffff;

function checkedFrameLength(plaintextLength: number, layout: UploadLayout): number {
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new RangeError("plaintextLength must be a non-negative integer");
  }
  const frameLength = layout.frameLength ?? uploadFrameLength;
  if (!Number.isSafeInteger(frameLength) || frameLength < 1)
    throw new RangeError("frameLength must be positive");
  return frameLength;
}

/**
 * The exact byte length of the upload message the browser writes for `plaintextLength` bytes: header,
 * full frames, and a final frame holding the last 1..frameLength bytes (an empty one only for an empty
 * plaintext). The API signs this length into the presigned PUT.
 *
 * @example
 * uploadCiphertextLength(file.size, { providerId, keyName, modulusBytes: 256, context })
 */
export function uploadCiphertextLength(plaintextLength: number, layout: UploadLayout): number {
  const frameLength = checkedFrameLength(plaintextLength, layout);
  const frames = Math.max(Math.ceil(plaintextLength / frameLength), 1);
  const last = plaintextLength - (frames - 1) * frameLength;
  return (
    uploadHeaderLength(layout) + (frames - 1) * (frameOverhead + frameLength) + finalFrameOverhead + last
  );
}

/**
 * Every length a valid upload of `plaintextLength` bytes has: `uploadCiphertextLength`, and when the
 * plaintext is a positive multiple of the frame length, also the Node.js SDK's stream framing — which
 * cannot know a frame is the last, so it closes every full frame and adds an empty final frame.
 */
export function uploadCiphertextLengths(plaintextLength: number, layout: UploadLayout): readonly number[] {
  const frameLength = checkedFrameLength(plaintextLength, layout);
  const length = uploadCiphertextLength(plaintextLength, layout);
  return plaintextLength > 0 && plaintextLength % frameLength === 0
    ? [length, length + frameOverhead]
    : [length];
}

/**
 * Whether `tail`, a message's last bytes, is an empty final frame with `sequenceNumber`: the end
 * marker, the sequence number, and content length 0 (the IV and tag follow). It tells the Node.js
 * framing from the browser's followed by as many other bytes.
 */
export function isEmptyFinalFrame(tail: Uint8Array, sequenceNumber: number): boolean {
  if (tail.byteLength !== finalFrameOverhead) return false;
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  return (
    view.getUint32(0) === endOfSequence && view.getUint32(4) === sequenceNumber && view.getUint32(20) === 0
  );
}

/** Bytes of an empty final frame, the last bytes `isEmptyFinalFrame` looks at. */
export const uploadEmptyFinalFrameLength = finalFrameOverhead;
