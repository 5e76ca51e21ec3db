import { constants, createPublicKey, privateDecrypt, publicEncrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BootstrapInputError, bootstrapFleKey, type SecretWriter } from "./bootstrap.ts";

const input = {
  action: "generate",
  generation: 2,
  keyName: "veil-prod-fle-2",
  providerId: "veil",
  secretId: "arn:secret",
};

function writer() {
  const writes: { secretId: string; value: string; token: string }[] = [];
  const secrets: SecretWriter = {
    async putSecretValue(secretId, value, token) {
      writes.push({ secretId, value, token });
    },
  };
  return { secrets, writes };
}

describe("bootstrapFleKey", () => {
  it("stores an RSA-2048 private key and returns only the matching public key", async () => {
    const w = writer();
    const result = await bootstrapFleKey(input, { secrets: w.secrets });
    expect(JSON.stringify(result)).not.toMatch(/PRIVATE/);
    expect(result).toMatchObject({ keyName: "veil-prod-fle-2", generation: 2 });
    const pub = createPublicKey(result.publicKeyPem);
    expect(pub.asymmetricKeyDetails?.modulusLength).toBe(2048);

    expect(w.writes).toHaveLength(1);
    const stored = JSON.parse(w.writes[0]!.value);
    expect(stored).toMatchObject({ keyName: "veil-prod-fle-2", providerId: "veil", generation: 2 });
    // The pair works as CloudFront uses it: RSA-OAEP with SHA-256.
    const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" };
    const sealed = publicEncrypt({ key: result.publicKeyPem, ...oaep }, Buffer.from("data key"));
    expect(privateDecrypt({ key: stored.privateKeyPem, ...oaep }, sealed).toString()).toBe("data key");
  });

  it("uses one request token per generation, so a retry cannot swap the key silently", async () => {
    const a = writer();
    const b = writer();
    await bootstrapFleKey(input, { secrets: a.secrets });
    await bootstrapFleKey(input, { secrets: b.secrets });
    await bootstrapFleKey({ ...input, generation: 3 }, { secrets: b.secrets });
    expect(a.writes[0]!.token).toBe(b.writes[0]!.token);
    expect(b.writes[1]!.token).not.toBe(b.writes[0]!.token);
    expect(a.writes[0]!.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it("rejects bad input before generating or writing anything", async () => {
    const w = writer();
    for (const bad of [
      { ...input, action: "rotate" },
      { ...input, generation: 0 },
      { ...input, keyName: "bad name" },
      { ...input, secretId: "" },
      undefined,
    ])
      await expect(bootstrapFleKey(bad, { secrets: w.secrets })).rejects.toBeInstanceOf(BootstrapInputError);
    expect(w.writes).toHaveLength(0);
  });

  it("lets a failed write fail the invocation without key material in the error", async () => {
    const secrets: SecretWriter = {
      putSecretValue: async () => {
        throw new Error("AccessDeniedException");
      },
    };
    const err = await bootstrapFleKey(input, { secrets }).catch((e: Error) => e);
    expect(String(err)).toBe("Error: AccessDeniedException");
  });
});
