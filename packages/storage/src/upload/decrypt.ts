/**
 * Opens an encrypted image upload as a stream, in constant memory, with the Encryption SDK's own
 * `decryptUnsignedMessageStream` and a raw RSA keyring per FLE private key (current, then previous).
 * Its materials manager refuses any suite but 0x0178 and any encryption context but the expected one
 * before the keyring unwraps the data key; the SDK then checks the header tag, the frames' sequence
 * and tags, at most one data key and frames up to `uploadMaxFrameLength`, and releases a frame's
 * plaintext only once its tag verified. On top, plaintext beyond the allowed bytes is refused, and at
 * the end the message must be exactly as long as a framed message of its header and plaintext: an
 * unframed body, or any byte after the final frame (which the SDK ignores), is refused.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { type Readable, Transform } from "node:stream";
import { buildDecrypt } from "@aws-crypto/decrypt-node";
import {
  type AwsEsdkKeyObject,
  CommitmentPolicy,
  type KeyringNode,
  MultiKeyringNode,
  NodeDefaultCryptographicMaterialsManager,
  type NodeMaterialsManager,
} from "@aws-crypto/material-management-node";
import { RawRsaKeyringNode } from "@aws-crypto/raw-rsa-keyring-node";
import type { MessageHeader } from "@aws-crypto/serialize";
import { ImageRejectedError, StorageConfigError, StorageError } from "../errors.ts";
import {
  isEmptyFinalFrame,
  uploadCiphertextLengths,
  uploadEmptyFinalFrameLength,
  uploadMaxFrameLength,
  uploadSuiteId,
} from "./format.ts";

/** One FLE private key (current or previous during a rotation) with its names. */
export interface UploadDecryptKey {
  readonly providerId: string;
  readonly keyName: string;
  readonly privateKeyPem: string;
}

export interface OpenUploadOptions {
  /** The current key first; the previous one while a rotation drains. */
  readonly keys: readonly UploadDecryptKey[];
  /** The exact encryption context the upload must carry. */
  readonly context: Readonly<Record<string, string>>;
  /** Plaintext bytes allowed; one more is `tooLarge`. */
  readonly maxPlaintextBytes: number;
}

// 0x0178 does not commit to its key; this policy is the one that reads it (and writes nothing here).
const client = buildDecrypt({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
  maxEncryptedDataKeys: 1,
});

const framedContent = 2;
const refused = (detail: string) => new ImageRejectedError("undecryptable", detail);

const privateKeys = new Map<string, KeyObject>();
const keyrings = new WeakMap<readonly UploadDecryptKey[], KeyringNode>();

/**
 * The parsed private key of `pem`, parsed once (a few are kept: current and previous). The SDK's key
 * type lists only the key types it uses, hence the cast.
 */
function privateKey(pem: string): AwsEsdkKeyObject {
  let key = privateKeys.get(pem);
  if (!key) {
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new StorageConfigError("privateKeyPem is not a valid PEM private key");
    }
    if (privateKeys.size >= 8) privateKeys.delete(privateKeys.keys().next().value as string);
    privateKeys.set(pem, key);
  }
  return key as unknown as AwsEsdkKeyObject;
}

/** One raw RSA keyring per key (RSA-OAEP-SHA256, names equal); the SDK tries them in order. */
function keyringFor(keys: readonly UploadDecryptKey[]): KeyringNode {
  let keyring = keyrings.get(keys);
  if (keyring) return keyring;
  if (keys.length === 0) throw new StorageConfigError("at least one upload key is needed");
  const children = keys.map(
    (k) =>
      new RawRsaKeyringNode({
        keyNamespace: k.providerId,
        keyName: k.keyName,
        rsaKey: { privateKey: privateKey(k.privateKeyPem) },
        oaepHash: "sha256",
      }),
  );
  keyring = children.length === 1 ? (children[0] as KeyringNode) : new MultiKeyringNode({ children });
  keyrings.set(keys, keyring);
  return keyring;
}

function sameContext(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>) {
  const a = Object.keys(actual);
  return a.length === Object.keys(expected).length && a.every((k) => actual[k] === expected[k]);
}

type DecryptionRequest = Parameters<NodeMaterialsManager["decryptMaterials"]>[0];

/** The SDK's default materials manager behind the suite and context checks, so they run before unwrap. */
class UploadMaterials implements NodeMaterialsManager {
  private readonly inner: NodeDefaultCryptographicMaterialsManager;
  constructor(
    keyring: KeyringNode,
    private readonly context: Readonly<Record<string, string>>,
  ) {
    this.inner = new NodeDefaultCryptographicMaterialsManager(keyring);
  }

  async getEncryptionMaterials(): Promise<never> {
    throw new StorageConfigError("upload materials only decrypt");
  }

  async decryptMaterials(request: DecryptionRequest) {
    if (request.suite.id !== uploadSuiteId) throw refused("suite");
    if (!sameContext(request.encryptionContext, this.context)) throw refused("context");
    return this.inner.decryptMaterials(request);
  }
}

/** The message's length is what its plaintext and header make it: nothing follows the final frame. */
function endsAtFinalFrame(header: MessageHeader, plaintextBytes: number, received: number, tail: Buffer) {
  const [edk] = header.encryptedDataKeys;
  if (!edk || header.contentType !== framedContent) return false;
  const [exact, withEmptyFinalFrame] = uploadCiphertextLengths(plaintextBytes, {
    providerId: edk.providerId,
    keyName: edk.providerInfo,
    modulusBytes: edk.encryptedDataKey.byteLength,
    context: header.encryptionContext,
    frameLength: header.frameLength,
  });
  if (received === exact) return true;
  return received === withEmptyFinalFrame && isEmptyFinalFrame(tail, plaintextBytes / header.frameLength + 1);
}

/**
 * Decrypts an upload stream. The output fails with an `ImageRejectedError` or the source's
 * `StorageError`; frames are released once authenticated, but a truncated or overlong message is
 * detected only at the end: treat the output as valid only after `end`. Destroying the output
 * destroys the source.
 *
 * @example
 * const plaintext = openUpload((await store.open(inbox)).body, {
 *   keys: [{ providerId, keyName, privateKeyPem }],
 *   context: uploadEncryptionContext(imageId),
 *   maxPlaintextBytes: declaredSize,
 * });
 */
export function openUpload(source: Readable, options: OpenUploadOptions): Readable {
  const decryptor = client.decryptUnsignedMessageStream(
    new UploadMaterials(keyringFor(options.keys), options.context),
    { maxBodySize: uploadMaxFrameLength },
  );
  let header: MessageHeader | undefined;
  let received = 0;
  let tail = Buffer.alloc(0);
  let plaintextBytes = 0;
  let failed = false;

  const output = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      plaintextBytes += chunk.length;
      if (plaintextBytes > options.maxPlaintextBytes) {
        done(new ImageRejectedError("tooLarge", "plaintext over limit"));
      } else {
        done(null, chunk);
      }
    },
    flush(done) {
      // The SDK ends only after the source ended: every ciphertext byte has been counted.
      const whole = header !== undefined && endsAtFinalFrame(header, plaintextBytes, received, tail);
      done(whole ? null : refused("message length"));
    },
  });

  const fail = (err: StorageError) => {
    if (failed) return;
    failed = true;
    source.unpipe(decryptor);
    source.destroy();
    decryptor.destroy();
    output.destroy(err);
  };
  source.on("data", (chunk: Buffer) => {
    received += chunk.length;
    tail =
      chunk.length >= uploadEmptyFinalFrameLength
        ? Buffer.from(chunk.subarray(chunk.length - uploadEmptyFinalFrameLength))
        : Buffer.concat([tail, chunk]).subarray(-uploadEmptyFinalFrameLength);
  });
  source.on("error", (err) => fail(err instanceof StorageError ? err : refused("source")));
  decryptor.on("MessageHeader", (h: MessageHeader) => {
    header = h;
  });
  decryptor.on("error", (err: unknown) =>
    fail(err instanceof ImageRejectedError ? err : refused("message refused")),
  );
  output.on("close", () => {
    if (!output.readableEnded && !failed) {
      failed = true;
      source.destroy();
      decryptor.destroy();
    }
  });
  source.pipe(decryptor).pipe(output);
  return output;
}
