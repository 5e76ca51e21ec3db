/**
 * Writes one Encryption SDK message from encryption materials, in memory, without the SDK's stream
 * pipeline (which costs ~200 µs per message, more than AES and HKDF together — see README). Same
 * steps and helpers as the SDK's `encryptStream`: header, header auth tag, frames of `frameLength`
 * (a final frame with the remainder, possibly empty), and the signature for signed suites. Tests
 * check every output against the SDK's own `decrypt`.
 */
import {
  getEncryptHelper,
  MessageFormat,
  type NodeEncryptionMaterial,
} from "@aws-crypto/material-management-node";
import { MessageIdLength, serializeMessageHeaderAuth, serializeSignatureInfo } from "@aws-crypto/serialize";
import { serializer, view } from "./format.ts";
import { type GetFrameCipher, sealFrames } from "./frame.ts";
import { serializeHeader } from "./header.ts";
import { newMessageId } from "./message-id.ts";

const empty = Buffer.alloc(0);

/**
 * Encrypts `plaintext` into one message. Zeroes the material's data key before returning.
 * `messageId` is for the tests only (comparisons with other writers); in use it is fresh random bytes.
 */
export function encryptMessage(
  material: NodeEncryptionMaterial,
  plaintext: Uint8Array,
  frameLength: number,
  messageId: Uint8Array = newMessageId(
    material.suite.messageFormat === MessageFormat.V2 ? MessageIdLength.V2 : MessageIdLength.V1,
  ),
): Uint8Array {
  const { getCipherInfo, getSigner, dispose } = getEncryptHelper(material);
  try {
    const { suite, encryptionContext, encryptedDataKeys } = material;
    const { getCipher, keyCommitment } = getCipherInfo(messageId);
    const messageHeader = serializer.buildMessageHeader({
      suite,
      encryptedDataKeys,
      encryptionContext,
      messageId,
      frameLength,
      suiteData: keyCommitment,
    });
    const header = serializeHeader(messageHeader);
    const headerIv = serializer.headerAuthIv(suite.ivLength);
    const headerCipher = getCipher(headerIv);
    headerCipher.setAAD(header);
    headerCipher.update(empty);
    headerCipher.final();
    const headerAuth = view(
      serializeMessageHeaderAuth({ headerIv, headerAuthTag: headerCipher.getAuthTag(), messageHeader }),
    );

    const parts: Buffer[] = [header, headerAuth];
    const source = view(plaintext);
    sealFrames(getCipher as unknown as GetFrameCipher, messageId, source, frameLength, parts);

    if (getSigner) {
      const signer = getSigner();
      for (const part of parts) signer.update(part);
      parts.push(view(serializeSignatureInfo(signer.awsCryptoSign())));
    }
    return Buffer.concat(parts);
  } finally {
    dispose();
  }
}
