import { bodyGuardFunctionCode, fleContentType } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { homeRegion, stageConfig } from "../stage.ts";
import { type Stack, synthesize, testAccount } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";
import { type Doc, parse, roleArn, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

/** The FLE private-key secret (fle.ts) and who may read it, on an unprotected and a protected stage. */
describe("fle: the private-key secret", () => {
  const stacks: Record<"dev" | "prod", Stack> = {} as never;
  beforeAll(async () => {
    stacks.dev = await synthesize("dev");
    stacks.prod = await synthesize("prod");
  }, 240_000);

  const secret = (stage: "dev" | "prod") =>
    stacks[stage].get("aws:secretsmanager/secret:Secret", "FlePrivateKey");

  it("is deleted at once on unprotected stages, so a removed stage redeploys under the same name", () => {
    for (const stage of ["dev", "sit", "prod", "alice"]) {
      const c = stageConfig(stage, { VEIL_PERSONAL_STAGE: "alice" });
      expect(c.secretRecoveryWindowDays, stage).toBe(c.protect ? 30 : 0);
    }
    expect(secret("dev").inputs.recoveryWindowInDays).toBe(0);
    expect(secret("prod").inputs.recoveryWindowInDays).toBe(30);
    expect(secret("dev").inputs.name).toBe("veil-dev-fle-private-key");
  });

  it("lets the records role read AWSCURRENT and AWSPREVIOUS only when the request names the stage", async () => {
    const s = stacks.dev;
    const policy = (role: string): Doc[] =>
      s
        .ofType("aws:iam/rolePolicy:RolePolicy")
        .filter((p) => p.inputs.role === role)
        .map((p) => JSON.parse(p.inputs.policy));
    const resourcePolicy = JSON.parse(
      s.get("aws:secretsmanager/secretPolicy:SecretPolicy", "FlePrivateKeyPolicy").inputs.policy,
    );
    const ask = (role: string, context: Record<string, string>) =>
      decide({
        role: roleArn(role),
        identity: policy(role),
        action: "secretsmanager:GetSecretValue",
        resource: `arn:aws:secretsmanager:${homeRegion}:${testAccount}:secret:veil-dev-fle-private-key-AbCdEf`,
        resourcePolicy,
        context,
      });
    for (const role of ["veil-dev-api", "veil-dev-ingest"]) {
      // What the handler sends (functions/src/shared/fle-key.ts): both reads name their stage.
      expect(await ask(role, { "secretsmanager:VersionStage": "AWSCURRENT" }), role).toBe("Allowed");
      expect(await ask(role, { "secretsmanager:VersionStage": "AWSPREVIOUS" }), role).toBe("Allowed");
      // A read without a stage has no key to match: refused, which is why the handler must send one.
      expect(await ask(role, {}), role).not.toBe("Allowed");
      expect(await ask(role, { "secretsmanager:VersionStage": "AWSPENDING" }), role).not.toBe("Allowed");
    }
  });

  it("refuses, before FLE, every API body FLE would forward in clear (the body guard)", () => {
    for (const stage of ["dev", "prod"] as const) {
      const s = stacks[stage];
      const config = s.get(
        "aws:cloudfront/fieldLevelEncryptionConfig:FieldLevelEncryptionConfig",
        "FleConfig",
      ).inputs;
      const types = config.contentTypeProfileConfig.contentTypeProfiles.items.map(
        (i: { contentType: string }) => i.contentType,
      );
      expect(types).toEqual([fleContentType]);
      const api = s
        .get("aws:cloudfront/distribution:Distribution", "Distribution")
        .inputs.orderedCacheBehaviors.find((b: { pathPattern: string }) => b.pathPattern === "/api/*");
      expect(api.fieldLevelEncryptionId).toBeTruthy();
      const guard = s.get("aws:cloudfront/function:Function", "ApiBodyGuard");
      expect(api.functionAssociations).toEqual([
        { eventType: "viewer-request", functionArn: guard.state.arn },
      ]);
      expect(guard.inputs).toMatchObject({ runtime: "cloudfront-js-2.0", publish: true });
      // The deployed source is the one tested in @veil/core and run by the local CloudFront.
      expect(guard.inputs.code).toBe(bodyGuardFunctionCode());
    }
  });
});

/**
 * The FLE key bootstrap (fle.ts) on each shared stage: the key pair made in AWS, and who may read it.
 */
for (const stageName of sharedStages) {
  let s: SharedStack;
  let dataKeyArn: string;
  const { stage, n, policyOf } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
    dataKeyArn = String(s.get(T.key, "DataKey").state.arn);
  }, 120_000);

  describe(`${stageName}: FLE key bootstrap`, () => {
    it("generates the key pair in AWS and keeps the private key out of Pulumi", () => {
      const inv = s.get("aws:lambda/invocation:Invocation", "FleKeyBootstrap").inputs;
      expect(JSON.parse(inv.input)).toMatchObject({
        action: "generate",
        generation: stage.fleKeyGeneration,
        providerId: "veil",
      });
      expect(JSON.stringify(s.resources.map((r) => r.inputs))).not.toMatch(/PRIVATE KEY/);
    });

    it("stores it in a secret encrypted with the data key, readable by the records function and the ingest only", async () => {
      const secret = s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey").inputs;
      expect(secret.kmsKeyId).toBe(dataKeyArn);
      const doc = parse(
        s.get("aws:secretsmanager/secretPolicy:SecretPolicy", "FlePrivateKeyPolicy").inputs.policy,
      );
      const arn = `arn:aws:secretsmanager:${homeRegion}:${testAccount}:secret:${n("fle-private-key")}-AbCdEf`;
      const ask = (role: string, identity: unknown[], action = "secretsmanager:GetSecretValue") =>
        decide({
          role: roleArn(role),
          identity,
          action,
          resource: arn,
          resourcePolicy: doc,
          context: { "secretsmanager:VersionStage": "AWSCURRENT" },
        });
      expect(await ask(n("api"), policyOf(n("api")))).toBe("Allowed");
      expect(await ask(n("ingest"), policyOf(n("ingest")))).toBe("Allowed");
      // The image functions that never need the private key cannot read it, whatever IAM says.
      for (const role of [n("images-api"), n("images-download")]) {
        expect(await ask(role, policyOf(role)), role).not.toBe("Allowed");
        expect(await ask(role, [allowAll]), role).toBe("ExplicitlyDenied");
      }
      expect(await ask("veil-developer", [allowAll])).toBe("ExplicitlyDenied");
      expect(await ask(n("fle-bootstrap"), [allowAll])).toBe("ExplicitlyDenied");
      expect(
        await ask(n("fle-bootstrap"), policyOf(n("fle-bootstrap")), "secretsmanager:PutSecretValue"),
      ).toBe("Allowed");
      expect(await ask(n("api"), [allowAll], "secretsmanager:PutSecretValue")).toBe("ExplicitlyDenied");
    });
  });
}
