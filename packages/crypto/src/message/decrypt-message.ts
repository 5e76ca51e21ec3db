/**
 * Reads one Encryption SDK message held in memory, without the SDK's stream pipeline (see
 * encrypt-message.ts for why). Same checks, in the same order, as the SDK's `decrypt`: header parse
 * with an encrypted-data-key limit, commitment and signature policies before and after the materials
 * manager, key commitment, header auth tag, frames in sequence from 1 with their AAD, final frame
 * required, signature. Stricter in one point: bytes after an unsigned message are refused.
 * Tests run every check against the SDK's own `encrypt`/`decrypt`.
 */
import {
  type CommitmentPolicy,
  CommitmentPolicySuites,
  getDecryptionHelper,
  type NodeDecryptionMaterial,
  type NodeMaterialsManager,
  type SignaturePolicy,
  SignaturePolicySuites,
} from "@aws-crypto/material-management-node";
import {
  decodeBodyHeader,
  deserializeSignature,
  type HeaderInfo,
  type MessageHeader,
  serializeMessageHeaderAuth,
} from "@aws-crypto/serialize";
import { CiphertextError, CryptoError } from "../errors.ts";
import { bodyAad, deserializer, frameAad, suiteFor, view } from "./format.ts";

export interface DecryptMessageOptions {
  readonly commitmentPolicy: CommitmentPolicy;
  readonly signaturePolicy: SignaturePolicy;
  readonly maxEncryptedDataKeys: number;
  /** Largest frame (or unframed body) accepted, in bytes. */
  readonly maxBodySize?: number;
}

export interface DecryptedMessage {
  readonly plaintext: Buffer;
  readonly messageHeader: MessageHeader;
}

/** Runs an SDK precondition; any failure is a malformed message. */
function malformedUnless<T>(step: () => T, reason: "malformed" | "unsupportedSuite" = "malformed"): T {
  try {
    return step();
  } catch {
    throw new CiphertextError(reason);
  }
}

/**
 * Parses and checks a message header: encrypted-data-key limit, then the commitment and signature
 * policies against the header's suite. Throws `CiphertextError`.
 */
export function parseHeader(ciphertext: Uint8Array, options: DecryptMessageOptions): HeaderInfo {
  const info = malformedUnless(() =>
    deserializer.deserializeMessageHeader(ciphertext, { maxEncryptedDataKeys: options.maxEncryptedDataKeys }),
  );
  if (!info) throw new CiphertextError("malformed");
  checkPolicies(options, info.algorithmSuite.id, info.messageHeader.messageId);
  return info;
}

/**
 * Policy/suite combinations the SDK's checks below have passed. They are pure functions of the two
 * policies and the suite id (over frozen tables), and build two long error strings on every call, so
 * a combination that passed once is not asked again; one that failed is asked every time. At most
 * 3 × 3 policies × the SDK's suites.
 */
const passedPolicies = new Set<string>();

/** The SDK's commitment and signature policy checks for a message's suite; `unsupportedSuite` if not. */
export function checkPolicies(
  options: DecryptMessageOptions,
  suiteId: number,
  messageIdBytes: Uint8Array,
): void {
  const key = `${options.commitmentPolicy} ${options.signaturePolicy} ${suiteId}`;
  if (passedPolicies.has(key)) return;
  const messageId = Buffer.from(messageIdBytes).toString("hex");
  const suite = suiteFor(suiteId);
  malformedUnless(() => {
    CommitmentPolicySuites.isDecryptEnabled(options.commitmentPolicy, suite, messageId);
    SignaturePolicySuites.isDecryptEnabled(options.signaturePolicy, suite, messageId);
  }, "unsupportedSuite");
  passedPolicies.add(key);
}

async function materialsFor(
  info: HeaderInfo,
  cmm: NodeMaterialsManager,
  options: DecryptMessageOptions,
): Promise<NodeDecryptionMaterial> {
  const { messageHeader } = info;
  let material: NodeDecryptionMaterial;
  try {
    material = await cmm.decryptMaterials({
      suite: suiteFor(info.algorithmSuite.id),
      encryptionContext: messageHeader.encryptionContext,
      encryptedDataKeys: messageHeader.encryptedDataKeys,
    });
  } catch (err) {
    throw err instanceof CryptoError ? err : new CiphertextError("wrongKey");
  }
  if (material.suite.id !== info.algorithmSuite.id) throw new CiphertextError("unsupportedSuite");
  checkPolicies(options, material.suite.id, messageHeader.messageId);
  return material;
}

/** Decrypts one complete message. Every failure is a `CryptoError`; the data key is zeroed after use. */
export async function decryptMessage(
  ciphertext: Uint8Array,
  cmm: NodeMaterialsManager,
  options: DecryptMessageOptions,
): Promise<DecryptedMessage> {
  const info = parseHeader(ciphertext, options);
  const material = await materialsFor(info, cmm, options);
  let helper: ReturnType<typeof getDecryptionHelper>;
  try {
    helper = getDecryptionHelper(material);
  } catch {
    throw new CiphertextError("wrongKey");
  }
  const { getDecipherInfo, getVerify, dispose } = helper;
  try {
    const { messageHeader } = info;
    const getDecipher = malformedUnless(() =>
      getDecipherInfo(messageHeader.messageId, (messageHeader as { suiteData?: Uint8Array }).suiteData),
    );
    return decryptBody(ciphertext, info, getDecipher, getVerify?.(), options);
  } finally {
    dispose();
  }
}

/** An AES-GCM decipher for one IV (the header tag's, or a frame's). */
export type GetDecipher = (iv: Uint8Array) => {
  setAAD(aad: Buffer): unknown;
  setAuthTag(tag: Buffer): unknown;
  update(data: Buffer): Buffer;
  final(): Buffer;
};

/** The signature check of a signed suite: fed the header and frames, then given the signature. */
export interface MessageVerify {
  update(data: Buffer): unknown;
  awsCryptoVerify(signature: Buffer): boolean;
}

/**
 * Checks the header's auth tag, then decrypts the frames in sequence from 1 with their AAD, requires a
 * final frame, checks the signature (or refuses trailing bytes). `getDecipher` holds the derived key.
 */
export function decryptBody(
  ciphertext: Uint8Array,
  info: HeaderInfo,
  getDecipher: GetDecipher,
  verify: MessageVerify | undefined,
  options: DecryptMessageOptions,
): DecryptedMessage {
  const { messageHeader, rawHeader, headerAuth } = info;
  const input = view(ciphertext);
  try {
    const headerCheck = getDecipher(headerAuth.headerIv);
    headerCheck.setAAD(view(rawHeader));
    headerCheck.setAuthTag(view(headerAuth.headerAuthTag));
    headerCheck.update(Buffer.alloc(0));
    headerCheck.final();
  } catch {
    throw new CiphertextError("tampered");
  }
  if (verify) {
    verify.update(view(rawHeader));
    verify.update(view(serializeMessageHeaderAuth({ ...headerAuth, messageHeader })));
  }

  const messageId = view(messageHeader.messageId);
  const plaintext: Buffer[] = [];
  let readPos = rawHeader.byteLength + headerAuth.headerAuthLength;
  let expectedSequence = 1;
  for (;;) {
    const frame = malformedUnless(() => decodeBodyHeader(input, info, readPos));
    if (!frame) throw new CiphertextError("malformed");
    if (options.maxBodySize !== undefined && frame.contentLength > options.maxBodySize) {
      throw new CiphertextError("malformed");
    }
    if (frame.sequenceNumber !== expectedSequence) throw new CiphertextError("malformed");
    const contentEnd = frame.readPos + frame.contentLength;
    const tagEnd = contentEnd + frame.tagLength / 8;
    if (tagEnd > input.length) throw new CiphertextError("malformed");
    const aad = frameAad(
      messageId,
      bodyAad.messageAADContentString({ contentType: frame.contentType, isFinalFrame: frame.isFinalFrame }),
      frame.sequenceNumber,
      frame.contentLength,
    );
    const content = input.subarray(frame.readPos, contentEnd);
    const tag = input.subarray(contentEnd, tagEnd);
    try {
      const decipher = getDecipher(frame.iv);
      decipher.setAAD(aad);
      decipher.setAuthTag(tag);
      plaintext.push(decipher.update(content), decipher.final());
    } catch {
      throw new CiphertextError("tampered");
    }
    verify?.update(input.subarray(readPos, tagEnd));
    readPos = tagEnd;
    expectedSequence++;
    if (frame.isFinalFrame) break;
  }

  if (verify) {
    const valid = malformedUnless(() =>
      verify.awsCryptoVerify(view(deserializeSignature(input.subarray(readPos)))),
    );
    if (!valid) throw new CiphertextError("tampered");
  } else if (readPos !== input.length) {
    throw new CiphertextError("malformed");
  }
  return { plaintext: Buffer.concat(plaintext), messageHeader };
}
