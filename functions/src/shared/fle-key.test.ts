import { describe, expect, it } from "vitest";
import { loadFleKeys } from "./fle-key.ts";

const secret = (keyName: string) => JSON.stringify({ keyName, privateKeyPem: `PEM ${keyName}` });

/** A Secrets Manager stand-in that records every request and answers by version stage. */
function fakeClient(stages: Record<string, string>) {
  const requests: { SecretId: string; VersionStage?: string }[] = [];
  return {
    requests,
    client: {
      async getSecretValue(input: { SecretId: string; VersionStage?: string }) {
        requests.push(input);
        const value = input.VersionStage ? stages[input.VersionStage] : undefined;
        if (value === undefined) throw new Error("ResourceNotFoundException");
        return { SecretString: value };
      },
    },
  };
}

describe("loadFleKeys", () => {
  it("names the version stage of every read (the secret's policy requires secretsmanager:VersionStage)", async () => {
    const f = fakeClient({ AWSCURRENT: secret("veil-dev-fle-2"), AWSPREVIOUS: secret("veil-dev-fle-1") });
    const keys = await loadFleKeys("arn:secret", "veil", f.client);
    expect(f.requests.map((r) => r.VersionStage)).toEqual(["AWSCURRENT", "AWSPREVIOUS"]);
    expect(keys.current.keyName).toBe("veil-dev-fle-2");
    expect(keys.previous?.keyName).toBe("veil-dev-fle-1");
  });

  it("works without a previous version", async () => {
    const f = fakeClient({ AWSCURRENT: secret("veil-dev-fle-1") });
    const keys = await loadFleKeys("arn:secret", "veil", f.client);
    expect(keys.previous).toBeUndefined();
  });
});
