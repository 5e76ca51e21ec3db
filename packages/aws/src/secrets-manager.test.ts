/** The Secrets Manager client against the local Secrets Manager of packages/local (SigV4 + access lists). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalSecrets, startLocalSecrets } from "../../local/src/secrets/server.ts";
import { AwsCredentialsError, AwsServiceError } from "./errors.ts";
import { createSecretsManagerClient } from "./secrets-manager.ts";

const region = "eu-central-2";
const reader = {
  accessKeyId: "AKIAREADER0000000001",
  secret: "reader-secret",
  arn: "arn:aws:iam::000000000000:role/reader",
};
const writer = {
  accessKeyId: "AKIAWRITER0000000001",
  secret: "writer-secret",
  arn: "arn:aws:iam::000000000000:role/writer",
};
const principals = [reader, writer];

let dir: string;
let secrets: LocalSecrets;
let arn: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "veil-aws-secrets-"));
  secrets = await startLocalSecrets({
    stateDir: dir,
    region,
    principals: (id) => principals.find((p) => p.accessKeyId === id),
  });
  arn = await secrets.define("veil/test/fle", { readers: [reader.arn], writers: [writer.arn] }, "first");
});
afterAll(async () => {
  await secrets.stop();
  await rm(dir, { recursive: true, force: true });
});

const client = (who: { accessKeyId: string; secret: string }) =>
  createSecretsManagerClient({
    endpoint: secrets.endpoint,
    region,
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secret },
    env: {},
  });

describe("createSecretsManagerClient against the local Secrets Manager", () => {
  it("gets the current value, puts a new one, and reads the previous by stage", async () => {
    const first = await client(reader).getSecretValue({ SecretId: arn });
    expect(first).toMatchObject({ ARN: arn, Name: "veil/test/fle", SecretString: "first" });
    expect(first.VersionStages).toEqual(["AWSCURRENT"]);

    const put = await client(writer).putSecretValue({ SecretId: arn, SecretString: "second" });
    expect(put.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await client(reader).getSecretValue({ SecretId: "veil/test/fle" })).SecretString).toBe("second");
    const previous = await client(reader).getSecretValue({ SecretId: arn, VersionStage: "AWSPREVIOUS" });
    expect(previous.SecretString).toBe("first");
  });

  it("names service errors by their code", async () => {
    const denied = await client(writer)
      .getSecretValue({ SecretId: arn })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AwsServiceError);
    expect((denied as AwsServiceError).name).toBe("AccessDeniedException");
    const missing = await client(reader)
      .getSecretValue({ SecretId: "no/such/secret" })
      .catch((e: unknown) => e);
    expect((missing as AwsServiceError).name).toBe("ResourceNotFoundException");
    const badSignature = await client({ accessKeyId: reader.accessKeyId, secret: "wrong" })
      .getSecretValue({ SecretId: arn })
      .catch((e: unknown) => e);
    expect((badSignature as AwsServiceError).name).toBe("InvalidSignatureException");
  });

  it("finds the local Secrets Manager through AWS_ENDPOINT_URL_SECRETS_MANAGER", async () => {
    const fromEnv = createSecretsManagerClient({
      env: {
        AWS_REGION: region,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_ACCESS_KEY_ID: reader.accessKeyId,
        AWS_SECRET_ACCESS_KEY: reader.secret,
      },
    });
    expect((await fromEnv.getSecretValue({ SecretId: arn })).ARN).toBe(arn);
  });

  it("without credentials fails with AwsCredentialsError", async () => {
    const none = createSecretsManagerClient({ endpoint: secrets.endpoint, region, env: {} });
    await expect(none.getSecretValue({ SecretId: arn })).rejects.toBeInstanceOf(AwsCredentialsError);
  });
});
