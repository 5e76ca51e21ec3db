import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInMemoryEnvelopeCrypto } from "./envelope.ts";
import { KmsUnavailableError } from "./errors.ts";
import { type KmsHttpStandIn, startKmsHttpStandIn } from "./testing/kms-http-stand-in.ts";
import { createKmsStandIn, type KmsStandIn } from "./testing/kms-stand-in.ts";

// The real AWS SDK KMS client over HTTP, as the deployed code and the local stack use it.
const credentials = { accessKeyId: "AKIDLOCAL", secretAccessKey: "local-secret" };
const ctx = { ownerId: "owner-1", recordId: "rec-1", purpose: "record.sensitive" };

let kms: KmsStandIn;
let server: KmsHttpStandIn;

beforeAll(async () => {
  kms = createKmsStandIn({ region: "eu-central-1" });
  server = await startKmsHttpStandIn(kms);
});

afterAll(async () => {
  await server.close();
});

describe("KmsKeyringNode with an SDK client built for an endpoint and credentials", () => {
  it("round trips, and a cold burst of 50 encrypts makes one GenerateDataKey over the wire", async () => {
    kms.resetCalls();
    const envelope = createInMemoryEnvelopeCrypto({
      app: "veil",
      stage: "local",
      kms: { keyId: kms.keyArn, endpoint: server.endpoint, credentials },
    });
    const ciphertexts = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        envelope.encryptFields({ fullName: `P${i}` }, { ...ctx, recordId: `r${i}` }),
      ),
    );
    expect(kms.calls.generateDataKey).toBe(1);
    expect(envelope.stats().kmsCalls.generateDataKey).toBe(1);

    const reader = createInMemoryEnvelopeCrypto({
      app: "veil",
      stage: "local",
      kms: { keyId: kms.keyArn, region: "eu-central-1", endpoint: server.endpoint, credentials },
    });
    const out = await Promise.all(
      ciphertexts.map((c, i) => reader.decryptFields(c, { ...ctx, recordId: `r${i}` })),
    );
    expect(out[7]).toEqual({ fullName: "P7" });
    expect(kms.calls.decrypt).toBe(1);
  });

  it("an unreachable endpoint fails with KmsUnavailableError", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const envelope = createInMemoryEnvelopeCrypto({
      app: "veil",
      stage: "local",
      kms: { keyId: kms.keyArn, endpoint: `http://127.0.0.1:${port}`, credentials, maxAttempts: 1 },
    });
    const err = await envelope.encryptBytes(Buffer.from("x"), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsUnavailableError);
  });
});
