/**
 * One body frame of a framed Encryption SDK message, written the SDK's way (`framed_encrypt_stream`):
 * IV = 8 zero bytes ‖ sequence number (uint32 BE); header = sequence number ‖ IV, or for the final
 * frame 0xFFFFFFFF ‖ sequence number ‖ IV ‖ content length; AAD = message id ‖ content string ‖
 * sequence number ‖ content length (uint64); then the AES-GCM ciphertext and its 16-byte tag. The one
 * frame writer of `encrypt-message.ts`, `committed-message.ts` and `committed-stream.ts`; `sealFrames`
 * frames a whole in-memory plaintext for the first two.
 */
import { frameAad } from "./format.ts";

/** 96-bit frame IVs (every AES-GCM suite of the SDK). */
export const frameIvBytes = 12;
/** The final-frame marker in place of a sequence number. */
const finalFrameMarker = 0xffffffff;
const frameString = "AWSKMSEncryptionClient Frame";
const finalFrameString = "AWSKMSEncryptionClient Final Frame";

/** An AES-GCM cipher for one frame IV, holding the message's derived key. */
export type GetFrameCipher = (iv: Buffer) => {
  setAAD(aad: Buffer): unknown;
  update(data: Buffer): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
};

/**
 * Appends frame `sequenceNumber` of `content` to `out`: its header, ciphertext and tag (as separate
 * buffers, no copy of the ciphertext). `content` may be given in pieces; `contentLength` is their sum.
 * A non-final frame must be exactly the message's frame length (the caller's rule, as in the SDK).
 */
export function sealFrame(
  getCipher: GetFrameCipher,
  messageId: Uint8Array,
  sequenceNumber: number,
  content: Buffer | readonly Buffer[],
  contentLength: number,
  isFinalFrame: boolean,
  out: Buffer[],
): void {
  // 0xFFFFFFFF marks the final frame: a sequence number can never reach it (the SDK's bound).
  if (!Number.isInteger(sequenceNumber) || sequenceNumber < 1 || sequenceNumber >= finalFrameMarker) {
    throw new RangeError("frame sequence number out of bounds");
  }
  const iv = Buffer.alloc(frameIvBytes);
  iv.writeUInt32BE(sequenceNumber, frameIvBytes - 4);
  let header: Buffer;
  if (isFinalFrame) {
    header = Buffer.allocUnsafe(4 + 4 + frameIvBytes + 4);
    header.writeUInt32BE(finalFrameMarker, 0);
    header.writeUInt32BE(sequenceNumber, 4);
    iv.copy(header, 8);
    header.writeUInt32BE(contentLength, 8 + frameIvBytes);
  } else {
    header = Buffer.allocUnsafe(4 + frameIvBytes);
    header.writeUInt32BE(sequenceNumber, 0);
    iv.copy(header, 4);
  }
  const cipher = getCipher(iv);
  cipher.setAAD(
    frameAad(messageId, isFinalFrame ? finalFrameString : frameString, sequenceNumber, contentLength),
  );
  out.push(header);
  if (Buffer.isBuffer(content)) {
    out.push(cipher.update(content));
  } else {
    for (const piece of content as readonly Buffer[]) out.push(cipher.update(piece));
  }
  const rest = cipher.final(); // GCM: empty, but the SDK keeps it too
  if (rest.byteLength > 0) out.push(rest);
  out.push(cipher.getAuthTag());
}

/**
 * Appends every frame of a whole plaintext held in memory to `out`, as the SDK frames it: full frames
 * of `frameLength` while a whole frame remains, then a final frame with the rest (possibly empty).
 */
export function sealFrames(
  getCipher: GetFrameCipher,
  messageId: Uint8Array,
  plaintext: Buffer,
  frameLength: number,
  out: Buffer[],
): void {
  let offset = 0;
  for (let sequenceNumber = 1; ; sequenceNumber++) {
    const isFinalFrame = plaintext.length - offset < frameLength;
    const contentLength = isFinalFrame ? plaintext.length - offset : frameLength;
    const content = plaintext.subarray(offset, offset + contentLength);
    sealFrame(getCipher, messageId, sequenceNumber, content, contentLength, isFinalFrame, out);
    offset += contentLength;
    if (isFinalFrame) return;
  }
}
