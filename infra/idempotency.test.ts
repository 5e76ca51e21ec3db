/**
 * The idempotency-key secret in the composed stack (dev, under Pulumi mocks): it exists, is encrypted
 * with the data key as the FLE private key is, holds no value in Pulumi state, is linked to the records
 * function only, and only the records role may read or write its value (simulated IAM).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { idempotencySecretValueActions } from "./idempotency.ts";
import { stageConfig } from "./stage.ts";
import { repoRoot, type Stack, synthesize, testAccount } from "./test/harness.ts";
import { allowAll, decide } from "./test/simulate.ts";

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
  "rotate-api-key",
  "fle-bootstrap",
];

it("is composed by sst.config.ts and linked to the records function", () => {
  const config = readFileSync(join(repoRoot, "sst.config.ts"), "utf8");
  expect(config).toContain("createIdempotencySecret(");
  expect(config).toContain("idempotency.link");
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
  beforeAll(async () => {
    s = await synthesize("dev");
    secretArn = String(s.get(T.secret, "IdempotencyKey").state.arn);
  }, 120_000);

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
