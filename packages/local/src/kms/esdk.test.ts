import { buildClient, CommitmentPolicy, getClient, KmsKeyringNode } from "@aws-crypto/client-node";
import { KMS, RotateKeyOnDemandCommand } from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LocalKms } from "./server.ts";
import { ADMIN, APP, client, DEVELOPER, fixture, POLICY } from "./testing.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

/** A keyring that reaches the local KMS exactly as production code reaches AWS KMS, with other credentials. */
function keyring(kms: LocalKms, who: { id: string; secret: string }, keyArn: string) {
  const clientProvider = getClient(KMS, {
    endpoint: kms.endpoint,
    credentials: { accessKeyId: who.id, secretAccessKey: who.secret },
    maxAttempts: 1,
  });
  return new KmsKeyringNode({ clientProvider, generatorKeyId: keyArn });
}

describe("AWS Encryption SDK against the local KMS", () => {
  let f: Fixture;
  let keyArn: string;
  beforeEach(async () => {
    f = await fixture();
    keyArn = f.kms.createKey({ policy: POLICY });
  });
  afterEach(async () => {
    await f.close();
  });

  it("round-trips a message with KmsKeyringNode, one GenerateDataKey and one Decrypt", async () => {
    const ring = keyring(f.kms, APP, keyArn);
    const context = { purpose: "record", recordId: "r-42" };
    const { result, messageHeader } = await encrypt(ring, Buffer.from("blood type: 0+"), {
      encryptionContext: context,
    });
    expect(messageHeader.encryptedDataKeys[0]?.providerInfo).toBe(keyArn);
    const back = await decrypt(ring, result);
    expect(back.plaintext.toString()).toBe("blood type: 0+");
    expect(back.messageHeader.encryptionContext).toMatchObject(context);
    expect(f.kms.stats().operations).toEqual({ GenerateDataKey: 1, Decrypt: 1 });
  });

  it("still decrypts after the key is rotated", async () => {
    const ring = keyring(f.kms, APP, keyArn);
    const { result } = await encrypt(ring, Buffer.from("before rotation"));
    await client(f.kms, ADMIN).send(new RotateKeyOnDemandCommand({ KeyId: keyArn }));
    expect((await decrypt(ring, result)).plaintext.toString()).toBe("before rotation");
  });

  it("refuses to decrypt for a principal the key policy does not name", async () => {
    const { result } = await encrypt(keyring(f.kms, APP, keyArn), Buffer.from("not for developers"));
    await expect(decrypt(keyring(f.kms, DEVELOPER, keyArn), result)).rejects.toThrow();
    expect(f.kms.stats().errors).toEqual({ AccessDeniedException: 1 });
  });
});
