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

/** Runs one simulation and returns its overall decision; throws on a validation error. */
export async function decide(q: Question): Promise<Decision> {
  const name = q.role.split("/").pop() ?? "role";
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
          ...q.context,
        },
      },
      identityPolicies: (q.identity ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
      serviceControlPolicies: q.scps
        ? [{ orgIdentifier: "r-root", policies: q.scps.map((policy, i) => ({ name: `scp${i}`, policy })) }]
        : [],
      resourceControlPolicies: [],
      resourcePolicy: q.resourcePolicy,
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
