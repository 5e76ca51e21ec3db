/** The local KMS operations on aliases. */
import { KmsError, notFound, validation } from "./errors.ts";
import { type Input, optionalString, requiredString } from "./input.ts";
import { type Operation, type OperationContext, seconds } from "./operation-context.ts";
import type { KeyRecord } from "./state.ts";

function checkAliasName(name: string): void {
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith("alias/aws/")) {
    throw new KmsError("InvalidAliasNameException", `Alias name ${name} is not valid.`);
  }
}

/** CreateAlias, UpdateAlias, DeleteAlias, ListAliases. */
export function aliasOperations(ctx: OperationContext): Record<string, Operation> {
  const { store, authorize, authorizeIdentity, requireNotPendingDeletion, page } = ctx;

  const aliasEntry = (a: { name: string; targetKeyId: string; createdAt: number; updatedAt: number }) => ({
    AliasName: a.name,
    AliasArn: store.aliasArn(a.name),
    TargetKeyId: a.targetKeyId,
    CreationDate: seconds(a.createdAt),
    LastUpdatedDate: seconds(a.updatedAt),
  });

  /** A TargetKeyId must name a key (id or ARN), not an alias. */
  function targetKey(input: Input): KeyRecord {
    const target = requiredString(input, "TargetKeyId");
    if (target.startsWith("alias/") || target.includes(":alias/")) {
      throw validation("Aliases must refer to keys. Not aliases");
    }
    return store.resolve(target).key;
  }

  return {
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
  };
}
