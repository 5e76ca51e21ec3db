/**
 * IAM policy evaluation offline with @cloud-copilot/iam-simulate: one call per question
 * "may this principal do this action on this resource, given these policies?".
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { testAccount } from "./harness.ts";

export interface Question {
  /** Role ARN of the caller (`arn:aws:iam::<acct>:role/<name>`); the session is derived from it. */
  readonly role: string;
  readonly action: string;
  readonly resource: string;
  readonly identity?: unknown[];
  readonly resourcePolicy?: unknown;
  readonly scps?: unknown[];
  readonly boundary?: unknown;
  readonly context?: Record<string, string | string[]>;
}

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

/**
 * The simulator resolves variable condition keys only in the `prefix/name` form (`aws:ResourceTag/x`);
 * KMS's `kms:EncryptionContext:<key>` would be ignored — every condition on it would fail, in policies
 * and requests alike. So questions rename it, on both sides and one to one, to a tag key the simulator
 * evaluates with the same string operators: the decision is the one for the original key.
 */
const encryptionContextKey = /^kms:EncryptionContext:(.+)$/i;
const simulatedKey = (key: string) => key.replace(encryptionContextKey, "aws:ResourceTag/kms-ec-$1");

function renameConditionKeys(value: unknown, inCondition = false): unknown {
  if (Array.isArray(value)) return value.map((v) => renameConditionKeys(v, inCondition));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (inCondition) {
        // Operator level: rename the keys of its {key: values} map.
        const inner =
          v && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).map(([ck, cv]) => [simulatedKey(ck), cv]))
            : v;
        return [k, inner];
      }
      return [k, renameConditionKeys(v, k === "Condition")];
    }),
  );
}

/** Runs one simulation and returns its overall decision; throws on a validation error. */
export async function decide(q: Question): Promise<Decision> {
  const name = q.role.split("/").pop() ?? "role";
  const context = Object.fromEntries(Object.entries(q.context ?? {}).map(([k, v]) => [simulatedKey(k), v]));
  const response = await runSimulation(
    {
      request: {
        principal: `arn:aws:sts::${testAccount}:assumed-role/${name}/session`,
        action: q.action,
        resource: { resource: q.resource, accountId: testAccount },
        contextVariables: {
          "aws:PrincipalArn": q.role,
          "aws:PrincipalAccount": testAccount,
          "aws:PrincipalType": "AssumedRole",
          "aws:SecureTransport": "true",
          "aws:RequestedRegion": "eu-central-2",
          ...context,
        },
      },
      identityPolicies: (q.identity ?? []).map((policy, i) => ({
        name: `identity${i}`,
        policy: renameConditionKeys(policy),
      })),
      serviceControlPolicies: q.scps
        ? [{ orgIdentifier: "r-root", policies: q.scps.map((policy, i) => ({ name: `scp${i}`, policy })) }]
        : [],
      resourceControlPolicies: [],
      resourcePolicy: q.resourcePolicy === undefined ? undefined : renameConditionKeys(q.resourcePolicy),
      permissionBoundaryPolicies: q.boundary ? [{ name: "boundary", policy: q.boundary }] : undefined,
    },
    {},
  );
  if (response.resultType === "error")
    throw new Error(`simulation error: ${JSON.stringify(response.errors)}`);
  return response.overallResult as Decision;
}

/** An identity policy allowing everything: the most a misconfigured developer role could hold. */
export const allowAll = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};
