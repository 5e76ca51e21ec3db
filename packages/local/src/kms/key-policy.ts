import type { PolicyDocument } from "./policy.ts";

/** What key administrators may do: manage the key, never use it for cryptography. */
export const KEY_ADMIN_ACTIONS = [
  "kms:Create*",
  "kms:Describe*",
  "kms:Enable*",
  "kms:List*",
  "kms:Put*",
  "kms:Update*",
  "kms:Revoke*",
  "kms:Disable*",
  "kms:Get*",
  "kms:Delete*",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
] as const;

/** What key users may do: cryptography only. */
export const KEY_USER_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
] as const;

/** The policy AWS attaches when CreateKey gets none: the account (its IAM policies) decides. */
export function defaultKeyPolicy(accountId: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Id: "key-default-1",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/**
 * A key policy separating duties: `admins` manage the key, `users` encrypt and decrypt with it, nobody
 * else (not even the account's IAM policies) may do anything.
 */
export function keyPolicy(options: { admins: readonly string[]; users: readonly string[] }): PolicyDocument {
  const statements: PolicyDocument["Statement"] = [];
  if (options.admins.length > 0) {
    statements.push({
      Sid: "KeyAdministration",
      Effect: "Allow",
      Principal: { AWS: [...options.admins] },
      Action: [...KEY_ADMIN_ACTIONS],
      Resource: "*",
    });
  }
  if (options.users.length > 0) {
    statements.push({
      Sid: "KeyUsage",
      Effect: "Allow",
      Principal: { AWS: [...options.users] },
      Action: [...KEY_USER_ACTIONS],
      Resource: "*",
    });
  }
  return { Version: "2012-10-17", Id: "veil-local-key-policy", Statement: statements };
}
