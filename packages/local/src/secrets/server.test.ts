import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalSecrets, startLocalSecrets } from "./server.ts";

const region = "eu-central-2";
const fn = {
  accessKeyId: "AKIAFUNCTION",
  secretAccessKey: "f".repeat(40),
  arn: "arn:aws:sts::0:assumed-role/fn/x",
};
const dev = { accessKeyId: "AKIADEVELOPER", secretAccessKey: "d".repeat(40), arn: "arn:aws:iam::0:user/dev" };
let stateDir: string;
let secrets: LocalSecrets;

const client = (p: typeof fn) =>
  new SecretsManagerClient({
    region,
    endpoint: secrets.endpoint,
    credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey },
  });

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "veil-secrets-"));
  secrets = await startLocalSecrets({
    stateDir,
    region,
    principals: (id) => {
      const p = [fn, dev].find((k) => k.accessKeyId === id);
      return p ? { secret: p.secretAccessKey, arn: p.arn } : undefined;
    },
  });
});

afterAll(async () => {
  await secrets?.stop();
  await rm(stateDir, { recursive: true, force: true });
});

describe("local Secrets Manager", () => {
  it("a secret without a value answers ResourceNotFoundException, as in AWS", async () => {
    const arn = await secrets.define("empty", { readers: [fn.arn], writers: [fn.arn] });
    await expect(client(fn).send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("a ClientRequestToken is the version id: a repeat is a no-op, another value is refused", async () => {
    const arn = await secrets.define("first-write", { readers: [fn.arn], writers: [fn.arn] });
    const token = "first-version-token-0123456789abcdef";
    const put = (value: string) =>
      client(fn).send(
        new PutSecretValueCommand({ SecretId: arn, SecretString: value, ClientRequestToken: token }),
      );
    expect((await put("one")).VersionId).toBe(token);
    expect((await put("one")).VersionId).toBe(token);
    await expect(put("two")).rejects.toMatchObject({ name: "ResourceExistsException" });
    const got = await client(fn).send(new GetSecretValueCommand({ SecretId: arn }));
    expect(got).toMatchObject({ SecretString: "one", VersionId: token });
  });

  it("enforces each secret's readers and writers", async () => {
    const arn = await secrets.define("guarded", { readers: [fn.arn], writers: [fn.arn] }, "value");
    await expect(client(dev).send(new GetSecretValueCommand({ SecretId: arn }))).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
    await expect(
      client(dev).send(new PutSecretValueCommand({ SecretId: arn, SecretString: "x" })),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});
