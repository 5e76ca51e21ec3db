/**
 * The data key (kms.ts) on each shared stage: its policy, and who may use it for what, simulated with
 * the key policy and the identity policies.
 */
import { encryptionPurposes } from "@veil/core";
import { beforeAll, describe, expect, it } from "vitest";
import { keyUseActions } from "../key-policies.ts";
import { homeRegion } from "../stage.ts";
import { testAccount } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";
import { asArray, bucketArn, parse, roleArn, stackHelpers, T } from "./stack-helpers.ts";
import { type SharedStack, sharedStack, sharedStages } from "./stages.ts";

for (const stageName of sharedStages) {
  let s: SharedStack;
  let dataKeyArn: string;
  const { stage, n, policyOf, bucketByPrefix } = stackHelpers(stageName, () => s);
  beforeAll(async () => {
    s = await sharedStack(stageName);
    dataKeyArn = String(s.get(T.key, "DataKey").state.arn);
  }, 120_000);

  describe(`${stageName}: KMS`, () => {
    it("is a rotating customer-managed symmetric key with an alias", () => {
      const key = s.get(T.key, "DataKey").inputs;
      expect(key).toMatchObject({
        keyUsage: "ENCRYPT_DECRYPT",
        customerMasterKeySpec: "SYMMETRIC_DEFAULT",
        enableKeyRotation: true,
        multiRegion: false,
      });
      expect(key.bypassPolicyLockoutSafetyCheck).not.toBe(true);
      const alias = s.get(T.alias, "DataKeyAlias").inputs;
      expect(alias.name).toBe(`alias/${n("data")}`);
    });

    it("grants key use to the function roles only, the image functions for images only", () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const useActions = [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
      ];
      const users = doc.Statement.filter((st) =>
        asArray(st.Action).some((a: string) => useActions.includes(a)),
      );
      // Unconditioned use: the records function alone.
      const unconditioned = users.filter((st) => !st.Condition);
      expect(unconditioned).toHaveLength(1);
      expect(asArray(unconditioned[0].Principal.AWS)).toEqual([roleArn(n("api"))]);
      expect(asArray(unconditioned[0].Action).sort()).toEqual([...keyUseActions].sort());
      // Every other use is bound to images (purpose), to S3 on the images bucket or to Secrets Manager
      // on the FLE secret, and belongs to the ingest, the download or the FLE bootstrap.
      const conditioned = users.filter((st) => st.Condition);
      const who = new Set(conditioned.flatMap((st) => asArray(st.Principal.AWS)));
      // With the account baseline, Macie's service-linked role reads the images bucket through S3.
      const scanner = `arn:aws:iam::${testAccount}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie`;
      expect([...who].sort()).toEqual(
        [
          roleArn(n("ingest")),
          roleArn(n("images-download")),
          roleArn(n("fle-bootstrap")),
          ...(stage.accountBaseline ? [scanner] : []),
        ].sort(),
      );
      for (const st of conditioned) {
        const equals = st.Condition.StringEquals ?? {};
        const via = equals["kms:ViaService"];
        if (via === undefined) {
          expect(equals, st.Sid).toEqual({ "kms:EncryptionContext:purpose": encryptionPurposes.recordImage });
        } else if (via === `s3.${homeRegion}.amazonaws.com`) {
          expect(st.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], st.Sid).toEqual([
            `arn:aws:s3:::${n("images")}-*`,
          ]);
        } else {
          expect(via, st.Sid).toBe(`secretsmanager.${homeRegion}.amazonaws.com`);
          expect(st.Condition.StringLike["kms:EncryptionContext:SecretARN"], st.Sid).toEqual([
            expect.stringContaining(`:secret:${n("fle-private-key")}`),
          ]);
        }
      }
      // Only the ingest may make data keys for images; the download may only decrypt.
      const actionsOf = (role: string) =>
        new Set(
          conditioned
            .filter((st) => asArray(st.Principal.AWS).includes(roleArn(role)))
            .flatMap((st) => asArray(st.Action) as string[]),
        );
      expect([...actionsOf(n("images-download"))]).toEqual(["kms:Decrypt"]);
      expect([...actionsOf(n("ingest"))].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
      expect(JSON.stringify(doc)).not.toContain(roleArn(n("images-api")));
    });

    it("lets the admin role manage but not use the key, and delegates nothing to IAM", async () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const admin = roleArn(`veil-deploy-${stageName}`);
      const q = { resource: dataKeyArn, resourcePolicy: doc, identity: [allowAll] };
      expect(await decide({ ...q, role: admin, action: "kms:PutKeyPolicy" })).toBe("Allowed");
      for (const action of ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"])
        expect(await decide({ ...q, role: admin, action }), action).not.toBe("Allowed");
      expect(await decide({ ...q, role: admin, action: "kms:CreateGrant" })).not.toBe("Allowed");
      const root = doc.Statement.filter((st) => JSON.stringify(st.Principal).includes(":root"));
      for (const st of root) {
        expect(asArray(st.Action)).not.toContain("kms:*");
        expect(st.Condition.StringEquals["aws:PrincipalType"]).toBe("Account");
      }
    });

    it("lets the API role decrypt and denies a developer role holding kms:*", async () => {
      const doc = parse(s.get(T.key, "DataKey").inputs.policy);
      const q = { resource: dataKeyArn, resourcePolicy: doc };
      expect(
        await decide({ ...q, role: roleArn(n("api")), action: "kms:Decrypt", identity: policyOf(n("api")) }),
      ).toBe("Allowed");
      expect(
        await decide({
          ...q,
          role: roleArn(n("ingest")),
          action: "kms:GenerateDataKey",
          identity: policyOf(n("ingest")),
          context: { "kms:EncryptionContext:purpose": encryptionPurposes.recordImage },
        }),
      ).toBe("Allowed");
      for (const role of [
        "veil-developer",
        n("rotate-api-key"),
        n("fle-bootstrap"),
        n("edge-signer"),
        n("images-api"),
        n("images-cleanup"),
        n("account"),
      ])
        expect(
          await decide({ ...q, role: roleArn(role), action: "kms:Decrypt", identity: [allowAll] }),
          role,
        ).not.toBe("Allowed");
      expect(
        await decide({
          ...q,
          role: roleArn("veil-developer"),
          action: "kms:PutKeyPolicy",
          identity: [allowAll],
        }),
      ).not.toBe("Allowed");
    });
  });

  describe(`${stageName}: KMS for the image functions (simulated, key policy and identity policy)`, () => {
    const image = { "kms:EncryptionContext:purpose": encryptionPurposes.recordImage };
    const fields = { "kms:EncryptionContext:purpose": encryptionPurposes.recordFields };
    const ask = (role: string, action: string, context: Record<string, string> = {}) =>
      decide({
        role: roleArn(n(role)),
        identity: policyOf(n(role)),
        action,
        resource: dataKeyArn,
        resourcePolicy: parse(s.get(T.key, "DataKey").inputs.policy),
        context,
      });
    const viaS3 = (bucket: string) => ({
      "kms:ViaService": `s3.${homeRegion}.amazonaws.com`,
      "kms:EncryptionContext:aws:s3:arn": bucketArn(bucketByPrefix(bucket)),
    });

    it("the download may decrypt images only: purpose record.image, or the images bucket through S3", async () => {
      expect(await ask("images-download", "kms:Decrypt", image)).toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt")).not.toBe("Allowed");
      expect(await ask("images-download", "kms:GenerateDataKey", image)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Encrypt", image)).not.toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", viaS3("images"))).toBe("Allowed");
      expect(await ask("images-download", "kms:Decrypt", viaS3("inbox"))).not.toBe("Allowed");
    });

    it("the ingest may make data keys for images and read the FLE secret, never decrypt an image", async () => {
      expect(await ask("ingest", "kms:GenerateDataKey", image)).toBe("Allowed");
      expect(await ask("ingest", "kms:GenerateDataKey", fields)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", image)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await ask("ingest", "kms:GenerateDataKey", viaS3("images"))).toBe("Allowed");
      expect(await ask("ingest", "kms:Decrypt", viaS3("images"))).toBe("Allowed");
      const secretArn = String(s.get("aws:secretsmanager/secret:Secret", "FlePrivateKey").state.arn);
      const viaSecrets = { "kms:ViaService": `secretsmanager.${homeRegion}.amazonaws.com` };
      expect(
        await ask("ingest", "kms:Decrypt", { ...viaSecrets, "kms:EncryptionContext:SecretARN": secretArn }),
      ).toBe("Allowed");
      expect(
        await ask("ingest", "kms:Decrypt", {
          ...viaSecrets,
          "kms:EncryptionContext:SecretARN": secretArn.replace("fle-private-key", "other"),
        }),
      ).not.toBe("Allowed");
    });

    it("the identity policies carry the same limits (were the key ever delegated to IAM)", async () => {
      // With the account-root statement of AWS's default key policy, IAM policies decide.
      const keyAllowsEverything = (_role: string) => ({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${testAccount}:root` },
            Action: "kms:*",
            Resource: "*",
          },
        ],
      });
      const askIdentity = (role: string, action: string, context: Record<string, string> = {}) =>
        decide({
          role: roleArn(n(role)),
          identity: policyOf(n(role)),
          action,
          resource: dataKeyArn,
          resourcePolicy: keyAllowsEverything(role),
          context,
        });
      expect(await askIdentity("images-download", "kms:Decrypt", image)).toBe("Allowed");
      expect(await askIdentity("images-download", "kms:Decrypt", fields)).not.toBe("Allowed");
      expect(await askIdentity("images-download", "kms:Decrypt", viaS3("inbox"))).not.toBe("Allowed");
      expect(await askIdentity("ingest", "kms:GenerateDataKey", image)).toBe("Allowed");
      expect(await askIdentity("ingest", "kms:GenerateDataKey", fields)).not.toBe("Allowed");
      expect(await askIdentity("ingest", "kms:Decrypt", image)).not.toBe("Allowed");
      expect(await askIdentity("images-api", "kms:Decrypt", image)).not.toBe("Allowed");
    });

    it("the images API may not use the key at all", async () => {
      for (const action of ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]) {
        expect(await ask("images-api", action, image), action).not.toBe("Allowed");
        expect(await ask("images-api", action, viaS3("inbox")), action).not.toBe("Allowed");
      }
    });
  });
}
