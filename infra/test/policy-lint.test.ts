/**
 * Every policy document the dev, sit, prod and governance plans record — IAM trust and inline
 * policies, key policies, bucket, secret, topic and API policies, the SCP and the permission boundary —
 * names only actions, condition operators and condition keys that exist in AWS's service reference,
 * and only keys that AWS sends with the statement's actions. Planted typos show the lint catches them.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { deployRoleTrust, developerBoundary, regionScp } from "../governance.ts";
import { type Stack, synthesize } from "./harness.ts";
import { isConditionOperator, type LintProblem, lintPolicy, policyDocuments } from "./policy-lint.ts";
import { type SharedStage, synthesizeStages } from "./stages.ts";

let stacks: Record<SharedStage | "governance", Stack>;
beforeAll(async () => {
  const shared = await synthesizeStages();
  stacks = {
    ...shared,
    governance: await synthesize("governance", { VEIL_SCP_TARGET_ID: "ou-test-12345678" }),
  };
}, 300_000);

/** Lints every document of a stack; returns the problems and how many documents were read. */
async function lintStack(
  s: Stack,
): Promise<{ problems: LintProblem[]; documents: number; types: Set<string> }> {
  const problems: LintProblem[] = [];
  const types = new Set<string>();
  let documents = 0;
  for (const r of s.resources)
    for (const { path, doc } of policyDocuments(r.inputs)) {
      documents += 1;
      types.add(r.type);
      problems.push(...(await lintPolicy(doc, `${r.type} ${r.name} ${path}`)));
    }
  return { problems, documents, types };
}

describe("policy lint of the recorded plans", () => {
  for (const stage of ["dev", "sit", "prod"] as const)
    it(`${stage}: every document names real actions and keys AWS sends`, async () => {
      const { problems, documents, types } = await lintStack(stacks[stage]);
      expect(problems).toEqual([]);
      expect(documents).toBeGreaterThan(20);
      // The kinds of document the lint must have read (not vacuously passed).
      for (const type of [
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:kms/key:Key",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:secretsmanager/secretPolicy:SecretPolicy",
      ])
        expect(types, type).toContain(type);
      if (stage === "prod") expect(types).toContain("aws:sns/topicPolicy:TopicPolicy");
    });

  it("governance: the SCP, the boundary and the deploy roles' trust", async () => {
    const { problems, types } = await lintStack(stacks.governance);
    expect(problems).toEqual([]);
    expect(types).toContain("aws:organizations/policy:Policy");
    for (const [name, doc] of [
      ["scp", regionScp()],
      ["boundary", developerBoundary()],
      [
        "trust",
        deployRoleTrust({
          providerArn: "arn:aws:iam::123456789012:oidc-provider/x",
          repository: "o/r",
          stage: "prod",
        }),
      ],
    ] as const)
      expect(await lintPolicy(doc, name), name).toEqual([]);
  });
});

describe("policy lint catches", () => {
  const statement = (st: Record<string, unknown>) => ({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Resource: "*", ...st }],
  });

  it("a mistyped action, a wildcard that matches nothing and an unknown service", async () => {
    expect(await lintPolicy(statement({ Action: "kms:Decrpyt" }), "t")).toEqual([
      { where: "t statement 0", problem: 'no such action "kms:Decrpyt"' },
    ]);
    expect(await lintPolicy(statement({ Action: ["kms:Encrypt*", "s3:Get*"] }), "t")).toEqual([]);
    expect((await lintPolicy(statement({ Action: "kms:Decrpt*" }), "t"))[0]?.problem).toContain(
      "no such action",
    );
    expect((await lintPolicy(statement({ Action: "kmss:Decrypt" }), "t"))[0]?.problem).toContain(
      "unknown service",
    );
  });

  it("a condition key AWS never sends: misspelt, or of another service than the actions", async () => {
    const misspelt = statement({
      Action: "s3:GetObject",
      Condition: { StringEquals: { "aws:SourceVcpe": "vpce-1" } },
    });
    expect(await lintPolicy(misspelt, "t")).toEqual([
      { where: "t statement 0", problem: 'no such condition key "aws:SourceVcpe"' },
    ]);
    const wrongService = statement({
      Action: "kms:Decrypt",
      Condition: { StringEquals: { "s3:x-amz-acl": "private" } },
    });
    expect((await lintPolicy(wrongService, "t"))[0]?.problem).toContain("never sent");
    const wrongAction = statement({
      Action: "s3:GetObject",
      Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
    });
    expect((await lintPolicy(wrongAction, "t"))[0]?.problem).toContain("never sent");
    const right = statement({
      Action: "kms:Decrypt",
      Condition: {
        StringEquals: {
          "kms:ViaService": "s3.eu-central-2.amazonaws.com",
          "kms:EncryptionContext:purpose": "x",
        },
      },
    });
    expect(await lintPolicy(right, "t")).toEqual([]);
  });

  it("an unknown condition operator", async () => {
    expect(isConditionOperator("ForAnyValue:StringEqualsIfExists")).toBe(true);
    expect(isConditionOperator("StringEqual")).toBe(false);
    const doc = statement({ Action: "s3:GetObject", Condition: { StringEqual: { "aws:SourceVpce": "v" } } });
    expect((await lintPolicy(doc, "t"))[0]?.problem).toBe('unknown condition operator "StringEqual"');
  });

  it("a typo planted in a recorded document (the prod data key policy)", async () => {
    const key = stacks.prod.get("aws:kms/key:Key", "DataKey");
    const original = String(key.inputs.policy);
    expect(await lintPolicy(original, "key")).toEqual([]);
    const planted = original
      .replace('"kms:Decrypt"', '"kms:Decrpyt"')
      .replace('"kms:ViaService"', '"kms:ViaServise"');
    const problems = (await lintPolicy(planted, "key")).map((p) => p.problem);
    expect(problems).toContain('no such action "kms:Decrpyt"');
    expect(problems).toContain('no such condition key "kms:ViaServise"');
  });
});
