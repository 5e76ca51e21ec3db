/**
 * What the resource policies of Veil's secrets (the FLE private key, the idempotency key) share: the
 * secret itself — its policy, its KMS key, its rotation, replication, tags, deletion — may be changed
 * by the key-admin role only (the stage's deploy role, which also administers the data key), and by
 * the account's root user as the same sealed break-glass path the data key keeps. Without it, anyone
 * IAM lets manage secrets could delete the policy that guards the value, or point the secret at a KMS
 * key of their own, and then plant a value they know. Who may read and write the value is each
 * secret's own statement; this one grants no value to anyone.
 */

/**
 * Every action that changes an existing secret other than by writing its value (AWS's service
 * reference: all non-read actions on a secret but CreateSecret, PutSecretValue and
 * UpdateSecretVersionStage). `UpdateSecret` can also write a value: it stays with the deploy role,
 * which could rewrite the policy anyway.
 */
export const secretManagementActions = [
  "secretsmanager:PutResourcePolicy",
  "secretsmanager:DeleteResourcePolicy",
  "secretsmanager:ValidateResourcePolicy",
  "secretsmanager:UpdateSecret",
  "secretsmanager:RotateSecret",
  "secretsmanager:CancelRotateSecret",
  "secretsmanager:DeleteSecret",
  "secretsmanager:RestoreSecret",
  "secretsmanager:ReplicateSecretToRegions",
  "secretsmanager:RemoveRegionsFromReplication",
  "secretsmanager:StopReplicationToReplica",
  "secretsmanager:TagResource",
  "secretsmanager:UntagResource",
] as const;

/** The actions on a secret's value: reading, writing and moving its stage labels. */
export const secretValueActions = [
  "secretsmanager:GetSecretValue",
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecretVersionStage",
] as const;

/**
 * The resource-policy statement "only the key admin (and the root user) manages this secret".
 *
 * @example
 * Statement: [managedByKeyAdminOnly({ accountId: ctx.accountId, adminRoleArn }), ...valueStatements]
 */
export function managedByKeyAdminOnly(p: {
  accountId: $util.Input<string>;
  adminRoleArn: $util.Input<string>;
}): Record<string, unknown> {
  return {
    Sid: "ManagedByKeyAdminOnly",
    Effect: "Deny",
    Principal: "*",
    Action: [...secretManagementActions],
    Resource: "*",
    Condition: {
      ArnNotEquals: { "aws:PrincipalArn": [p.adminRoleArn, $interpolate`arn:aws:iam::${p.accountId}:root`] },
    },
  };
}
