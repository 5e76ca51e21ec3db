/**
 * The recovery role of docs/recovery.md, as written there (the JSON blocks are read from the page, so
 * the page cannot drift from what is tested): the key-policy statements a key admin adds in a disaster
 * and the role's identity policy, through the IAM policy simulator. Nothing here is deployed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testAccount } from "./harness.ts";
import { allowAll, decide } from "./simulate.ts";

const page = readFileSync(join(import.meta.dirname, "../../docs/recovery.md"), "utf8");
const docAccount = "111122223333";

/** The JSON block of the page tagged `tag`, with the page's example account replaced by the test's. */
function block(tag: string): unknown {
  const m = new RegExp(`\`\`\`json ${tag}\\n([\\s\\S]*?)\\n\\s*\`\`\``).exec(page);
  if (!m?.[1]) throw new Error(`docs/recovery.md has no ${tag} block`);
  return JSON.parse(m[1].replaceAll(docAccount, testAccount));
}

const keyPolicy = { Version: "2012-10-17", Statement: block("recovery-key-policy") };
const rolePolicy = block("recovery-role-policy");
const recovery = `arn:aws:iam::${testAccount}:role/veil-prod-recovery`;
const keyArn = `arn:aws:kms:eu-central-2:${testAccount}:key/DATA-KEY-ID`;
const prod = { "kms:EncryptionContext:app": "veil", "kms:EncryptionContext:stage": "prod" };
/** A session signed in with MFA, within the statements' expiry. */
const session = { "aws:MultiFactorAuthPresent": "true", "aws:CurrentTime": "2027-01-02T00:00:00Z" };

const ask = (
  action: string,
  context: Record<string, string>,
  role = recovery,
  identity = [rolePolicy],
  when: Record<string, string> = session,
) =>
  decide({
    role,
    action,
    resource: keyArn,
    identity,
    resourcePolicy: keyPolicy,
    context: { ...when, ...context },
  });

describe("the recovery role of docs/recovery.md", () => {
  it("may decrypt the records and images of its stage", async () => {
    for (const purpose of ["record.sensitive", "record.image"]) {
      expect(await ask("kms:Decrypt", { ...prod, "kms:EncryptionContext:purpose": purpose })).toBe("Allowed");
    }
  });

  it("may not decrypt another stage's or app's data, nor anything without that context", async () => {
    expect(await ask("kms:Decrypt", { ...prod, "kms:EncryptionContext:stage": "sit" })).not.toBe("Allowed");
    expect(await ask("kms:Decrypt", { ...prod, "kms:EncryptionContext:app": "other" })).not.toBe("Allowed");
    expect(await ask("kms:Decrypt", {})).not.toBe("Allowed");
  });

  it("needs an MFA session and stops working when the statement expires", async () => {
    const records = { ...prod, "kms:EncryptionContext:purpose": "record.sensitive" };
    const noMfa = { ...session, "aws:MultiFactorAuthPresent": "false" };
    const expired = { ...session, "aws:CurrentTime": "2027-01-09T00:00:00Z" };
    expect(await ask("kms:Decrypt", records, recovery, [rolePolicy], noMfa)).not.toBe("Allowed");
    expect(await ask("kms:Decrypt", records, recovery, [rolePolicy], expired)).not.toBe("Allowed");
    const viaS3 = {
      "kms:ViaService": "s3.eu-central-2.amazonaws.com",
      "kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::IMAGES-BUCKET/images/o/r/i",
    };
    expect(await ask("kms:Decrypt", viaS3)).toBe("Allowed");
    expect(await ask("kms:Decrypt", viaS3, recovery, [rolePolicy], noMfa)).not.toBe("Allowed");
    expect(await ask("kms:Decrypt", viaS3, recovery, [rolePolicy], expired)).not.toBe("Allowed");
  });

  it("gets no other use of the key, even with an identity policy allowing everything", async () => {
    for (const action of [
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:CreateGrant",
      "kms:PutKeyPolicy",
    ]) {
      expect(await ask(action, prod, recovery, [allowAll]), action).not.toBe("Allowed");
    }
  });

  it("names only the recovery role: another role with every IAM right is refused", async () => {
    const other = `arn:aws:iam::${testAccount}:role/veil-prod-developer`;
    expect(await ask("kms:Decrypt", prod, other, [allowAll])).not.toBe("Allowed");
  });

  it("decrypts through S3 for the images bucket only", async () => {
    const viaS3 = (bucket: string, service = "s3.eu-central-2.amazonaws.com") => ({
      "kms:ViaService": service,
      "kms:EncryptionContext:aws:s3:arn": `arn:aws:s3:::${bucket}`,
    });
    expect(await ask("kms:Decrypt", viaS3("IMAGES-BUCKET"))).toBe("Allowed");
    expect(await ask("kms:Decrypt", viaS3("veil-prod-inbox"))).not.toBe("Allowed");
    expect(
      await ask("kms:Decrypt", viaS3("IMAGES-BUCKET", "secretsmanager.eu-central-2.amazonaws.com")),
    ).not.toBe("Allowed");
  });

  it("reads stored images, nothing else of the bucket", async () => {
    const s3 = (action: string, key: string) =>
      decide({
        role: recovery,
        action,
        resource: `arn:aws:s3:::IMAGES-BUCKET/${key}`,
        identity: [rolePolicy],
      });
    expect(await s3("s3:GetObjectVersion", "images/o/r/i")).toBe("Allowed");
    expect(await s3("s3:GetObject", "inbox/o/r/i")).not.toBe("Allowed");
    expect(await s3("s3:PutObject", "images/o/r/i")).not.toBe("Allowed");
  });
});
