import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import * as local from "./index.ts";

// The seams outside tools call, checked by the type-checker: removing one from the entry fails `pnpm typecheck`.
const seams = [
  local.startLocalStack,
  local.verifySigV4,
  local.startGateway,
  local.startLocalKms,
  local.startLocalCognito,
  local.startLocalCloudFront,
];
void seams;

describe("@veil/local entry point", () => {
  it("starts a stand-in an outside tool uses with the stock AWS SDK", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "veil-entry-"));
    const arn = "arn:aws:iam::111122223333:role/Tool";
    const kms = await local.startLocalKms({
      stateDir,
      region: "eu-central-2",
      accountId: "111122223333",
      principals: { AKIATOOL0000000001: { secret: "tool-secret", arn, identityActions: ["kms:*"] } },
    });
    try {
      const keyId = kms.createKey({
        policy: local.keyPolicy({ admins: [arn], users: [arn] }),
        description: "t",
      });
      const client = new KMSClient({
        endpoint: kms.endpoint,
        region: "eu-central-2",
        credentials: { accessKeyId: "AKIATOOL0000000001", secretAccessKey: "tool-secret" },
        maxAttempts: 1,
      });
      const context = { purpose: "entry-test" };
      const sealed = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("hello"), EncryptionContext: context }),
      );
      const opened = await client.send(
        new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: context }),
      );
      expect(Buffer.from(opened.Plaintext ?? []).toString()).toBe("hello");
      await expect(
        client.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: {} })),
      ).rejects.toThrow();
    } finally {
      await kms.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
