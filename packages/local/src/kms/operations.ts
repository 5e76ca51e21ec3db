/**
 * The operations of the local KMS by family (keys, aliases, cryptography, rotation, policies), over one
 * shared context (`operation-context.ts`: the key store, authorization, key states, paging).
 */
import { aliasOperations } from "./alias-operations.ts";
import { cryptoOperations } from "./crypto-operations.ts";
import { keyOperations } from "./key-operations.ts";
import type { KeyStore } from "./keystore.ts";
import { createOperationContext, type Operation } from "./operation-context.ts";
import { policyOperations } from "./policy-operations.ts";
import { rotationOperations } from "./rotation-operations.ts";

export type { Caller, Operation } from "./operation-context.ts";

/** The operations of the local KMS, keyed by the `X-Amz-Target` suffix. */
export function createOperations(store: KeyStore): Record<string, Operation> {
  const ctx = createOperationContext(store);
  return {
    ...keyOperations(ctx),
    ...aliasOperations(ctx),
    ...cryptoOperations(ctx),
    ...rotationOperations(ctx),
    ...policyOperations(ctx),
  };
}
