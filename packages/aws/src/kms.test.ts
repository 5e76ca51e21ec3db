/**
 * The KMS client over the wire against the local KMS of packages/local (a real server that verifies
 * SigV4 and enforces key policies): round trips, error names, fail-closed credentials, and the SDK's
 * own client as a cross-check.
 */
import { DecryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP, DEVELOPER, fixture, POLICY } from "../../local/src/kms/testing.ts";
import { AwsCredentialsError, AwsServiceError } from "./errors.ts";
import { createKmsClient, type KmsClientOptions } from "./kms.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
let f: Fixture;
let keyArn: string;
const context = { tenant: "t-1", record: "r-1" };

beforeAll(async () => {
  f = await fixture();
  keyArn = f.kms.createKey({ policy: POLICY, description: "records" });
});
afterAll(async () => {
  await f.close();
});

const kms = (who: { id: string; secret: string }, over: Partial<KmsClientOptions> = {}) =>
  createKmsClient({
    endpoint: f.kms.endpoint,
    region: f.kms.region,
    credentials: { accessKeyId: who.id, secretAccessKey: who.secret },
    env: {},
    ...over,
  });

async function failure(p: Promise<unknown>): Promise<AwsServiceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AwsServiceError);
  return err as AwsServiceError;
}

describe("createKmsClient against the local KMS", () => {
  it("round trips GenerateDataKey / Decrypt with the encryption context", async () => {
    const app = kms(APP);
    const key = await app.generateDataKey({ KeyId: keyArn, NumberOfBytes: 32, EncryptionContext: context });
    expect(key.KeyId).toBe(keyArn);
    expect(key.Plaintext).toBeInstanceOf(Uint8Array);
    expect(key.Plaintext).toHaveLength(32);
    const out = await app.decrypt({ CiphertextBlob: key.CiphertextBlob!, EncryptionContext: context });
    expect(Buffer.from(out.Plaintext!).equals(Buffer.from(key.Plaintext!))).toBe(true);
    expect(out.KeyId).toBe(keyArn);
  });

  it("round trips Encrypt / Decrypt, and the AWS SDK client reads what it wrote", async () => {
    const plaintext = new TextEncoder().encode("hello, kms");
    const enc = await kms(APP).encrypt({ KeyId: keyArn, Plaintext: plaintext, EncryptionContext: context });
    const sdk = new KMSClient({
      endpoint: f.kms.endpoint,
      region: f.kms.region,
      credentials: { accessKeyId: APP.id, secretAccessKey: APP.secret },
      maxAttempts: 1,
    });
    const out = await sdk.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
    );
    expect(new TextDecoder().decode(out.Plaintext)).toBe("hello, kms");
  });

  it("a wrong encryption context fails as InvalidCiphertextException", async () => {
    const app = kms(APP);
    const key = await app.generateDataKey({ KeyId: keyArn, NumberOfBytes: 32, EncryptionContext: context });
    const err = await failure(
      app.decrypt({ CiphertextBlob: key.CiphertextBlob!, EncryptionContext: { ...context, record: "r-2" } }),
    );
    expect(err.name).toBe("InvalidCiphertextException");
    expect(err.statusCode).toBe(400);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.attempts).toBe(1);
  });

  it("a bad signature fails as the stand-in's InvalidSignatureException, not retried", async () => {
    f.kms.resetStats();
    const err = await failure(
      kms({ id: APP.id, secret: "not-the-secret" }).generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 }),
    );
    expect(err.name).toBe("InvalidSignatureException");
    expect(f.kms.stats().total).toBe(1);
    const unknown = await failure(
      kms({ id: "AKIAUNKNOWN000000000", secret: "x" }).encrypt({
        KeyId: keyArn,
        Plaintext: new Uint8Array(1),
      }),
    );
    expect(unknown.name).toBe("UnrecognizedClientException");
  });

  it("a principal the key policy does not name gets AccessDeniedException", async () => {
    const err = await failure(kms(DEVELOPER).generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 }));
    expect(err.name).toBe("AccessDeniedException");
  });

  it("throttling from the stand-in is retried, then surfaces as ThrottlingException", async () => {
    f.kms.resetStats();
    f.kms.setFault({ mode: "throttle" });
    try {
      const err = await failure(
        kms(APP, { throttlingBaseDelayMs: 1 }).generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 }),
      );
      expect(err.name).toBe("ThrottlingException");
      expect(err.attempts).toBe(3);
      expect(f.kms.stats().total).toBe(3);
    } finally {
      f.kms.setFault(null);
    }
  });

  it("without credentials fails with AwsCredentialsError and sends nothing", async () => {
    f.kms.resetStats();
    const client = createKmsClient({ endpoint: f.kms.endpoint, region: f.kms.region, env: {} });
    await expect(client.generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 })).rejects.toBeInstanceOf(
      AwsCredentialsError,
    );
    expect(f.kms.stats().total).toBe(0);
  });

  it("never signs with credentials that expire within the minimum validity, and sends nothing", async () => {
    f.kms.resetStats();
    const expiring = (ms: number) => async () => ({
      accessKeyId: APP.id,
      secretAccessKey: APP.secret,
      sessionToken: "t",
      expiration: new Date(Date.now() + ms),
    });
    for (const ms of [-60_000, 30_000]) {
      const client = kms(APP, { credentials: expiring(ms) });
      await expect(client.generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 })).rejects.toBeInstanceOf(
        AwsCredentialsError,
      );
    }
    expect(f.kms.stats().total).toBe(0);
    // The same keys, valid long enough, are signed with and sent.
    const fresh = kms(APP, { credentials: expiring(3_600_000) });
    await expect(fresh.generateDataKey({ KeyId: keyArn, NumberOfBytes: 32 })).resolves.toMatchObject({
      KeyId: keyArn,
    });
  });

  it("finds the local KMS through AWS_ENDPOINT_URL_KMS and the credentials through the environment", async () => {
    const client = createKmsClient({
      env: {
        AWS_REGION: f.kms.region,
        AWS_ENDPOINT_URL_KMS: f.kms.endpoint,
        AWS_ACCESS_KEY_ID: APP.id,
        AWS_SECRET_ACCESS_KEY: APP.secret,
      },
    });
    const key = await client.generateDataKey({ KeyId: keyArn, NumberOfBytes: 16 });
    expect(key.Plaintext).toHaveLength(16);
  });
});
