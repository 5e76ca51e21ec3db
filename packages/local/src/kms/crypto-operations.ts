/** The local KMS cryptographic operations: encrypt, decrypt, re-encrypt, and data keys. */
import { randomBytes } from "node:crypto";
import { openBlob, readBlobHeader, sealBlob } from "./blob.ts";
import { KmsError, notFound, validation } from "./errors.ts";
import {
  type Input,
  optionalContext,
  optionalInt,
  optionalString,
  requiredBlob,
  requiredString,
} from "./input.ts";
import { ALGORITHM, type Caller, type Operation, type OperationContext } from "./operation-context.ts";
import type { KeyRecord } from "./state.ts";

const MAX_PLAINTEXT = 4096;
const MAX_CIPHERTEXT = 6144;

function dataKeyLength(input: Input): number {
  const spec = optionalString(input, "KeySpec");
  const bytes = optionalInt(input, "NumberOfBytes", 1, 1024);
  if ((spec === undefined) === (bytes === undefined)) {
    throw validation("Please specify either number of bytes or key spec.");
  }
  if (bytes !== undefined) return bytes;
  if (spec === "AES_256") return 32;
  if (spec === "AES_128") return 16;
  throw validation(
    "1 validation error detected: Value at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]",
  );
}

function checkAlgorithm(input: Input, field: string): void {
  const algorithm = optionalString(input, field);
  if (algorithm !== undefined && algorithm !== ALGORITHM) {
    throw new KmsError("InvalidKeyUsageException", `${field} ${algorithm} is not supported by this key.`);
  }
}

/** Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext. */
export function cryptoOperations(ctx: OperationContext): Record<string, Operation> {
  const { store, authorize, requireUsable, keyFor } = ctx;

  /** Decrypts a blob for an operation that reads ciphertext (Decrypt, ReEncrypt source). */
  function openFor(
    caller: Caller,
    operation: string,
    blob: Buffer,
    keyIdField: string | undefined,
    input: Input,
    contextField: string,
  ) {
    const header = readBlobHeader(blob);
    const context = optionalContext(input, contextField);
    const key = store.byId(header.keyId);
    if (!key) throw notFound(`Key '${store.keyArn(header.keyId)}' does not exist`);
    const requested = keyIdField === undefined ? undefined : optionalString(input, keyIdField);
    if (requested !== undefined && store.resolve(requested).key.keyId !== key.keyId) {
      throw new KmsError(
        "IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.",
      );
    }
    authorize(caller, operation, key, { context });
    requireUsable(key);
    return { key, plaintext: openBlob(blob, store.material(key, header.materialVersion), context) };
  }

  function seal(key: KeyRecord, plaintext: Uint8Array, context: Record<string, string> | undefined): string {
    const material = store.material(key, key.currentVersion);
    return sealBlob(
      { keyId: key.keyId, materialVersion: key.currentVersion },
      material,
      plaintext,
      context,
    ).toString("base64");
  }

  return {
    Encrypt(caller, input) {
      const context = optionalContext(input, "EncryptionContext");
      const plaintext = requiredBlob(input, "Plaintext", MAX_PLAINTEXT);
      checkAlgorithm(input, "EncryptionAlgorithm");
      const key = keyFor(caller, "Encrypt", input, { usable: true, context });
      return {
        CiphertextBlob: seal(key, plaintext, context),
        KeyId: key.arn,
        EncryptionAlgorithm: ALGORITHM,
      };
    },

    Decrypt(caller, input) {
      const blob = requiredBlob(input, "CiphertextBlob", MAX_CIPHERTEXT);
      checkAlgorithm(input, "EncryptionAlgorithm");
      const { key, plaintext } = openFor(caller, "Decrypt", blob, "KeyId", input, "EncryptionContext");
      return { KeyId: key.arn, Plaintext: plaintext.toString("base64"), EncryptionAlgorithm: ALGORITHM };
    },

    ReEncrypt(caller, input) {
      const blob = requiredBlob(input, "CiphertextBlob", MAX_CIPHERTEXT);
      checkAlgorithm(input, "SourceEncryptionAlgorithm");
      checkAlgorithm(input, "DestinationEncryptionAlgorithm");
      const source = openFor(caller, "ReEncryptFrom", blob, "SourceKeyId", input, "SourceEncryptionContext");
      const context = optionalContext(input, "DestinationEncryptionContext");
      const { key, alias } = store.resolve(requiredString(input, "DestinationKeyId"));
      authorize(caller, "ReEncryptTo", key, { alias, context });
      requireUsable(key);
      return {
        CiphertextBlob: seal(key, source.plaintext, context),
        SourceKeyId: source.key.arn,
        KeyId: key.arn,
        SourceEncryptionAlgorithm: ALGORITHM,
        DestinationEncryptionAlgorithm: ALGORITHM,
      };
    },

    GenerateDataKey(caller, input) {
      const context = optionalContext(input, "EncryptionContext");
      const length = dataKeyLength(input);
      const key = keyFor(caller, "GenerateDataKey", input, { usable: true, context });
      const plaintext = randomBytes(length);
      return {
        CiphertextBlob: seal(key, plaintext, context),
        Plaintext: plaintext.toString("base64"),
        KeyId: key.arn,
      };
    },

    GenerateDataKeyWithoutPlaintext(caller, input) {
      const context = optionalContext(input, "EncryptionContext");
      const length = dataKeyLength(input);
      const key = keyFor(caller, "GenerateDataKeyWithoutPlaintext", input, { usable: true, context });
      return { CiphertextBlob: seal(key, randomBytes(length), context), KeyId: key.arn };
    },
  };
}
