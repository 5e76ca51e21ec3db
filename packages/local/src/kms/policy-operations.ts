/** The local KMS operations on key policies. */
import { notFound } from "./errors.ts";
import { optionalBool, optionalString, requiredString } from "./input.ts";
import type { Operation, OperationContext } from "./operation-context.ts";

/** GetKeyPolicy, PutKeyPolicy. */
export function policyOperations(ctx: OperationContext): Record<string, Operation> {
  const { store, keyFor, requireNotPendingDeletion, checkNewPolicy } = ctx;
  return {
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
