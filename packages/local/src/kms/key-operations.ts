/** The local KMS operations on keys themselves: create, describe, list, enable, disable, delete. */
import { KmsError } from "./errors.ts";
import { optionalBool, optionalInt, optionalString } from "./input.ts";
import { defaultKeyPolicy } from "./key-policy.ts";
import { type Operation, type OperationContext, seconds } from "./operation-context.ts";

/** CreateKey, DescribeKey, ListKeys, EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion. */
export function keyOperations(ctx: OperationContext): Record<string, Operation> {
  const { store, metadata, authorizeIdentity, keyFor, checkNewPolicy, page, requireNotPendingDeletion } = ctx;
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
  };
}
