import { randomBytes } from "node:crypto";
import { openBlob, readBlobHeader, sealBlob } from "./blob.ts";
import { KmsError, notFound, validation } from "./errors.ts";
import {
  type Input,
  optionalBool,
  optionalContext,
  optionalInt,
  optionalString,
  requiredBlob,
  requiredString,
} from "./input.ts";
import { defaultKeyPolicy } from "./key-policy.ts";
import { type KeyStore, ROTATION_PERIOD_DAYS } from "./keystore.ts";
import { evaluatePolicy, parsePolicy } from "./policy.ts";
import type { KeyRecord } from "./state.ts";

/** Who is calling: the principal the SigV4 signature proved. */
export interface Caller {
  readonly arn: string;
  /** Actions the caller's identity (IAM) policy allows; wildcards allowed (`kms:List*`). */
  readonly identityActions: readonly string[];
}

export type Operation = (caller: Caller, input: Input) => Record<string, unknown>;

const ALGORITHM = "SYMMETRIC_DEFAULT";
const MAX_PLAINTEXT = 4096;
const MAX_CIPHERTEXT = 6144;
const seconds = (ms: number) => ms / 1000;

const wildcardMatch = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
    "i",
  ).test(value);

const identityAllows = (caller: Caller) => (action: string) =>
  caller.identityActions.some((pattern) => wildcardMatch(pattern, action));

/** The operations of the local KMS, keyed by the `X-Amz-Target` suffix. */
export function createOperations(store: KeyStore): Record<string, Operation> {
  const metadata = (key: KeyRecord) => ({
    AWSAccountId: store.accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: seconds(key.createdAt),
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.state,
    ...(key.deletionDate !== undefined && {
      DeletionDate: seconds(key.deletionDate),
      PendingDeletionWindowInDays: key.pendingWindowInDays,
    }),
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT",
    KeySpec: "SYMMETRIC_DEFAULT",
    EncryptionAlgorithms: [ALGORITHM],
    MultiRegion: false,
  });

  /** Key-policy authorization; throws `AccessDeniedException` with the message AWS gives. */
  function authorize(
    caller: Caller,
    operation: string,
    key: KeyRecord,
    extra: { context?: Record<string, string>; alias?: string } = {},
  ): void {
    const action = `kms:${operation}`;
    const conditionKeys: Record<string, string | string[]> = {
      "aws:PrincipalArn": caller.arn,
      "kms:CallerAccount": caller.arn.split(":")[4] ?? "",
      "kms:EncryptionAlgorithm": ALGORITHM,
    };
    if (extra.alias !== undefined) conditionKeys["kms:RequestAlias"] = extra.alias;
    if (extra.context !== undefined) {
      conditionKeys["kms:EncryptionContextKeys"] = Object.keys(extra.context);
      for (const [k, v] of Object.entries(extra.context)) conditionKeys[`kms:EncryptionContext:${k}`] = v;
    }
    const decision = evaluatePolicy(parsePolicy(key.policy), {
      principalArn: caller.arn,
      action,
      resource: key.arn,
      context: conditionKeys,
      identityAllows: identityAllows(caller),
    });
    if (decision === "allow") return;
    const why =
      decision === "explicitDeny"
        ? "with an explicit deny in a resource-based policy"
        : `because no resource-based policy allows the ${action} action`;
    throw new KmsError(
      "AccessDeniedException",
      `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${key.arn} ${why}`,
    );
  }

  /** For actions without a key (CreateKey, ListKeys, ...), only the identity policy decides. */
  function authorizeIdentity(caller: Caller, operation: string): void {
    const action = `kms:${operation}`;
    if (identityAllows(caller)(action)) return;
    throw new KmsError(
      "AccessDeniedException",
      `User: ${caller.arn} is not authorized to perform: ${action} on resource: * because no identity-based policy allows the ${action} action`,
    );
  }

  function requireUsable(key: KeyRecord): void {
    if (key.state === "Disabled") throw new KmsError("DisabledException", `${key.arn} is disabled.`);
    if (key.state === "PendingDeletion") {
      throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    }
  }

  function requireNotPendingDeletion(key: KeyRecord): void {
    if (key.state === "PendingDeletion") {
      throw new KmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    }
  }

  /** Resolve + authorize + (optionally) require the key enabled, for a KeyId field. */
  function keyFor(
    caller: Caller,
    operation: string,
    input: Input,
    opts: { usable?: boolean; context?: Record<string, string> } = {},
  ) {
    const { key, alias } = store.resolve(requiredString(input, "KeyId"));
    authorize(caller, operation, key, { alias, context: opts.context });
    if (opts.usable) requireUsable(key);
    return key;
  }

  /** Checks a new policy parses and, unless bypassed, still lets the caller change it later. */
  function checkNewPolicy(caller: Caller, text: string, keyArn: string, bypass: boolean): void {
    const policy = parsePolicy(text);
    if (bypass) return;
    const decision = evaluatePolicy(policy, {
      principalArn: caller.arn,
      action: "kms:PutKeyPolicy",
      resource: keyArn,
      context: { "aws:PrincipalArn": caller.arn },
      identityAllows: identityAllows(caller),
    });
    if (decision !== "allow") {
      throw new KmsError(
        "MalformedPolicyDocumentException",
        "The new key policy will not allow you to update the key policy in the future.",
      );
    }
  }

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

  function page<T>(items: readonly T[], input: Input) {
    const limit = optionalInt(input, "Limit", 1, 1000) ?? 100;
    const marker = optionalString(input, "Marker");
    const start = marker === undefined ? 0 : Number.parseInt(marker, 10);
    if (!Number.isInteger(start) || start < 0 || start > items.length) {
      throw new KmsError("InvalidMarkerException", "The marker is not valid.");
    }
    const slice = items.slice(start, start + limit);
    const truncated = start + limit < items.length;
    return { slice, truncated, ...(truncated && { NextMarker: String(start + limit) }) };
  }

  const aliasEntry = (a: { name: string; targetKeyId: string; createdAt: number; updatedAt: number }) => ({
    AliasName: a.name,
    AliasArn: store.aliasArn(a.name),
    TargetKeyId: a.targetKeyId,
    CreationDate: seconds(a.createdAt),
    LastUpdatedDate: seconds(a.updatedAt),
  });

  function checkAliasName(name: string): void {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith("alias/aws/")) {
      throw new KmsError("InvalidAliasNameException", `Alias name ${name} is not valid.`);
    }
  }

  /** A TargetKeyId must name a key (id or ARN), not an alias. */
  function targetKey(input: Input): KeyRecord {
    const target = requiredString(input, "TargetKeyId");
    if (target.startsWith("alias/") || target.includes(":alias/")) {
      throw validation("Aliases must refer to keys. Not aliases");
    }
    return store.resolve(target).key;
  }

  return {
    CreateKey(caller, input) {
      authorizeIdentity(caller, "CreateKey");
      const usage = optionalString(input, "KeyUsage") ?? "ENCRYPT_DECRYPT";
      const spec =
        optionalString(input, "KeySpec") ??
        optionalString(input, "CustomerMasterKeySpec") ??
        "SYMMETRIC_DEFAULT";
      const origin = optionalString(input, "Origin") ?? "AWS_KMS";
      if (usage !== "ENCRYPT_DECRYPT" || spec !== "SYMMETRIC_DEFAULT" || origin !== "AWS_KMS") {
        throw new KmsError(
          "UnsupportedOperationException",
          "The local KMS only makes symmetric AWS_KMS keys.",
        );
      }
      if (optionalBool(input, "MultiRegion")) {
        throw new KmsError("UnsupportedOperationException", "The local KMS does not make multi-Region keys.");
      }
      const policy = optionalString(input, "Policy");
      if (policy !== undefined)
        checkNewPolicy(caller, policy, "*", optionalBool(input, "BypassPolicyLockoutSafetyCheck"));
      const text = policy ?? JSON.stringify(defaultKeyPolicy(store.accountId));
      const key = store.create(text, optionalString(input, "Description") ?? "");
      return { KeyMetadata: metadata(key) };
    },

    DescribeKey(caller, input) {
      return { KeyMetadata: metadata(keyFor(caller, "DescribeKey", input)) };
    },

    ListKeys(caller, input) {
      authorizeIdentity(caller, "ListKeys");
      const { slice, truncated, ...next } = page(store.keys(), input);
      return { Keys: slice.map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })), Truncated: truncated, ...next };
    },

    CreateAlias(caller, input) {
      const name = requiredString(input, "AliasName");
      checkAliasName(name);
      const key = targetKey(input);
      authorize(caller, "CreateAlias", key);
      requireNotPendingDeletion(key);
      if (store.alias(name)) {
        throw new KmsError(
          "AlreadyExistsException",
          `An alias with the name ${store.aliasArn(name)} already exists`,
        );
      }
      store.putAlias(name, key.keyId);
      return {};
    },

    UpdateAlias(caller, input) {
      const name = requiredString(input, "AliasName");
      const alias = store.alias(name);
      if (!alias) throw notFound(`Alias ${store.aliasArn(name)} is not found.`);
      const key = targetKey(input);
      const current = store.byId(alias.targetKeyId);
      if (current) authorize(caller, "UpdateAlias", current);
      authorize(caller, "UpdateAlias", key);
      requireNotPendingDeletion(key);
      store.putAlias(name, key.keyId);
      return {};
    },

    DeleteAlias(caller, input) {
      const name = requiredString(input, "AliasName");
      const alias = store.alias(name);
      const key = alias && store.byId(alias.targetKeyId);
      if (!alias || !key) throw notFound(`Alias ${store.aliasArn(name)} is not found.`);
      authorize(caller, "DeleteAlias", key);
      store.deleteAlias(name);
      return {};
    },

    ListAliases(caller, input) {
      const keyId = optionalString(input, "KeyId");
      let aliases = store.aliases();
      if (keyId !== undefined) {
        const key = store.resolve(keyId).key;
        authorize(caller, "ListAliases", key);
        aliases = aliases.filter((a) => a.targetKeyId === key.keyId);
      } else {
        authorizeIdentity(caller, "ListAliases");
      }
      const { slice, truncated, ...next } = page(aliases, input);
      return { Aliases: slice.map(aliasEntry), Truncated: truncated, ...next };
    },

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

    EnableKeyRotation(caller, input) {
      const key = keyFor(caller, "EnableKeyRotation", input, { usable: true });
      const period = optionalInt(
        input,
        "RotationPeriodInDays",
        ROTATION_PERIOD_DAYS.min,
        ROTATION_PERIOD_DAYS.max,
      );
      key.rotationEnabled = true;
      key.rotationPeriodInDays = period ?? key.rotationPeriodInDays;
      store.scheduleRotation(key);
      store.save();
      return {};
    },

    DisableKeyRotation(caller, input) {
      const key = keyFor(caller, "DisableKeyRotation", input, { usable: true });
      key.rotationEnabled = false;
      store.scheduleRotation(key);
      store.save();
      return {};
    },

    GetKeyRotationStatus(caller, input) {
      const key = keyFor(caller, "GetKeyRotationStatus", input);
      requireNotPendingDeletion(key);
      const last = key.rotations.at(-1);
      return {
        KeyId: key.arn,
        KeyRotationEnabled: key.rotationEnabled,
        ...(key.rotationEnabled && {
          RotationPeriodInDays: key.rotationPeriodInDays,
          NextRotationDate: key.nextRotationDate === undefined ? undefined : seconds(key.nextRotationDate),
        }),
        ...(last?.type === "ON_DEMAND" && { OnDemandRotationStartDate: seconds(last.date) }),
      };
    },

    RotateKeyOnDemand(caller, input) {
      const key = keyFor(caller, "RotateKeyOnDemand", input, { usable: true });
      store.rotate(key, "ON_DEMAND");
      store.save();
      return { KeyId: key.arn };
    },

    ListKeyRotations(caller, input) {
      const key = keyFor(caller, "ListKeyRotations", input);
      requireNotPendingDeletion(key);
      const { slice, truncated, ...next } = page(key.rotations, input);
      return {
        Rotations: slice.map((r) => ({
          KeyId: key.arn,
          RotationDate: seconds(r.date),
          RotationType: r.type,
        })),
        Truncated: truncated,
        ...next,
      };
    },

    ScheduleKeyDeletion(caller, input) {
      const key = keyFor(caller, "ScheduleKeyDeletion", input);
      const window = optionalInt(input, "PendingWindowInDays", 7, 30) ?? 30;
      requireNotPendingDeletion(key);
      store.scheduleDeletion(key, window);
      store.save();
      return {
        KeyId: key.arn,
        DeletionDate: seconds(key.deletionDate ?? 0),
        KeyState: key.state,
        PendingWindowInDays: window,
      };
    },

    CancelKeyDeletion(caller, input) {
      const key = keyFor(caller, "CancelKeyDeletion", input);
      if (key.state !== "PendingDeletion") {
        throw new KmsError("KMSInvalidStateException", `${key.arn} is not pending deletion.`);
      }
      // As in AWS: a key whose deletion is cancelled comes back disabled; EnableKey turns it on.
      key.state = "Disabled";
      key.deletionDate = undefined;
      key.pendingWindowInDays = undefined;
      store.save();
      return { KeyId: key.arn };
    },

    DisableKey(caller, input) {
      const key = keyFor(caller, "DisableKey", input);
      requireNotPendingDeletion(key);
      key.state = "Disabled";
      store.save();
      return {};
    },

    EnableKey(caller, input) {
      const key = keyFor(caller, "EnableKey", input);
      requireNotPendingDeletion(key);
      key.state = "Enabled";
      store.save();
      return {};
    },

    GetKeyPolicy(caller, input) {
      const key = keyFor(caller, "GetKeyPolicy", input);
      const name = optionalString(input, "PolicyName") ?? "default";
      if (name !== "default") throw notFound(`No such policy exists: ${name}`);
      return { Policy: key.policy, PolicyName: "default" };
    },

    PutKeyPolicy(caller, input) {
      const key = keyFor(caller, "PutKeyPolicy", input);
      requireNotPendingDeletion(key);
      const name = optionalString(input, "PolicyName") ?? "default";
      if (name !== "default") throw notFound(`No such policy exists: ${name}`);
      const policy = requiredString(input, "Policy");
      checkNewPolicy(caller, policy, key.arn, optionalBool(input, "BypassPolicyLockoutSafetyCheck"));
      key.policy = policy;
      store.save();
      return {};
    },
  };
}
