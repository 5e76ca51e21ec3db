/**
 * The format of an encrypted image upload (see README "Upload format"): an AWS Encryption SDK message,
 * format version 1, algorithm suite 0x0178 — what CloudFront field-level encryption writes — framed,
 * with one data key wrapped by the FLE public key (RSA-OAEP-SHA256), and the image id as encryption
 * context. No Node.js imports: the browser encryptor uses this file too.
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

/**
 * The exact byte length of the upload message for `plaintextLength` bytes: header, full frames (sequence
 * number, IV, content, tag) and a final frame (end marker, sequence number, IV, content length, the
 * remaining 0..frameLength-1 bytes, tag). The API signs this length into the presigned PUT.
 */
export function uploadCiphertextLength(plaintextLength: number, layout: UploadLayout): number {
  const frameLength = layout.frameLength ?? uploadFrameLength;
  if (!Number.isSafeInteger(plaintextLength) || plaintextLength < 0) {
    throw new RangeError("plaintextLength must be a non-negative integer");
  }
  const full = Math.floor(plaintextLength / frameLength);
  const rest = plaintextLength - full * frameLength;
  return uploadHeaderLength(layout) + full * (4 + 12 + frameLength + 16) + (4 + 4 + 12 + 4 + rest + 16);
}
