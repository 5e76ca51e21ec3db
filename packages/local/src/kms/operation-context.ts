/**
 * What every family of KMS operations shares: the key store, the caller's authorization by key policy
 * and identity policy, key-state checks, key metadata and paging, as AWS KMS answers them.
 */
import { KmsError } from "./errors.ts";
import { type Input, optionalInt, optionalString, requiredString } from "./input.ts";
import type { KeyStore } from "./keystore.ts";
import { evaluatePolicy, parsePolicy } from "./policy.ts";
import type { KeyRecord } from "./state.ts";

/** Who is calling: the principal the SigV4 signature proved. */
export interface Caller {
  readonly arn: string;
  /** Actions the caller's identity (IAM) policy allows; wildcards allowed (`kms:List*`). */
  readonly identityActions: readonly string[];
}

export type Operation = (caller: Caller, input: Input) => Record<string, unknown>;

export const ALGORITHM = "SYMMETRIC_DEFAULT";
export const seconds = (ms: number) => ms / 1000;

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

/** The shared context of the operation families (`createOperationContext`). */
export type OperationContext = ReturnType<typeof createOperationContext>;

/** Builds the helpers every operation family uses, over one key store. */
export function createOperationContext(store: KeyStore) {
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

  return {
    store,
    metadata,
    authorize,
    authorizeIdentity,
    requireUsable,
    requireNotPendingDeletion,
    keyFor,
    checkNewPolicy,
    page,
  };
}
