/** The local KMS protocol edges: SigV4 authentication, call statistics and injected faults. */
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ADMIN, APP, client, DEVELOPER, failure, fixture, POLICY } from "./testing.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
const text = (s: string) => new TextEncoder().encode(s);

describe("local KMS authentication", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.close();
  });

  const post = (endpoint: string, headers: Record<string, string>, body = "{}") =>
    fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "TrentService.ListKeys",
        ...headers,
      },
      body,
    });

  it("rejects an unsigned request with MissingAuthenticationTokenException", async () => {
    const res = await post(f.kms.endpoint, {});
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    });
  });

  it("rejects a malformed Authorization header with IncompleteSignatureException", async () => {
    const res = await post(f.kms.endpoint, {
      authorization: "AWS4-HMAC-SHA256 Credential=oops",
      "x-amz-date": "20300101T000000Z",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("IncompleteSignatureException");
  });

  it("rejects a wrong secret with InvalidSignatureException and an unknown key with UnrecognizedClientException", async () => {
    const wrong = await failure(
      client(f.kms, { id: ADMIN.id, secret: "not-the-secret" }).send(new ListKeysCommand({})),
    );
    expect(wrong).toMatchObject({ name: "InvalidSignatureException", status: 400 });
    const unknown = await failure(
      client(f.kms, { id: "AKIANOBODY000000000", secret: "x" }).send(new ListKeysCommand({})),
    );
    expect(unknown).toMatchObject({ name: "UnrecognizedClientException", status: 400 });
  });

  it("rejects a body changed after signing", async () => {
    const admin = client(f.kms, ADMIN);
    type Handler = (args: { request: unknown }) => Promise<unknown>;
    const tamper =
      (next: Handler): Handler =>
      async (args) => {
        const request = args.request as { body: Uint8Array | string; headers: Record<string, string> };
        const body = typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body);
        request.body = body.replace("{}", '{"Limit":1}');
        request.headers["content-length"] = String(Buffer.byteLength(request.body));
        return next(args);
      };
    admin.middlewareStack.addRelativeTo(
      tamper as unknown as Parameters<typeof admin.middlewareStack.addRelativeTo>[0],
      {
        relation: "after",
        toMiddleware: "httpSigningMiddleware",
        name: "tamperAfterSigning",
      },
    );
    expect((await failure(admin.send(new ListKeysCommand({})))).name).toBe("InvalidSignatureException");
  });
});

describe("local KMS stats and faults", () => {
  let f: Fixture;
  let keyArn: string;
  beforeEach(async () => {
    f = await fixture();
    keyArn = f.kms.createKey({ policy: POLICY });
  });
  afterEach(async () => {
    await f.close();
  });

  it("counts calls per operation and errors per type", async () => {
    const app = client(f.kms, APP);
    await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
    await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
    await failure(client(f.kms, DEVELOPER).send(new DecryptCommand({ CiphertextBlob: text("x") })));
    expect(f.kms.stats()).toEqual({
      total: 3,
      operations: { GenerateDataKey: 2, Decrypt: 1 },
      errors: { InvalidCiphertextException: 1 },
    });
    f.kms.resetStats();
    expect(f.kms.stats().total).toBe(0);
  });

  it("throttles, fails, drops connections and delays on demand", async () => {
    const app = client(f.kms, APP);
    f.kms.setFault({ mode: "throttle", operations: ["Encrypt"] });
    expect(
      await failure(app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text("x") }))),
    ).toMatchObject({
      name: "ThrottlingException",
      status: 400,
    });
    await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));

    f.kms.setFault({ mode: "error" });
    expect(
      await failure(app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }))),
    ).toMatchObject({
      name: "KMSInternalException",
      status: 500,
    });

    f.kms.setFault({ mode: "down" });
    const down = await failure(app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" })));
    expect(down.status).toBeUndefined();

    // Slow: an answer held back until the client gives up; a short delay still answers.
    f.kms.setFault({ mode: "slow", delayMs: 60_000 });
    const abort = new AbortController();
    const held = failure(
      app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }), {
        abortSignal: abort.signal,
      }),
    );
    await vi.waitFor(() => expect(f.kms.stats().operations.GenerateDataKey).toBe(4));
    abort.abort();
    expect((await held).name).toBe("AbortError");
    f.kms.setFault({ mode: "slow", delayMs: 1 });
    await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
    f.kms.setFault(null);
    expect(f.kms.stats().errors).toEqual({ ThrottlingException: 1, KMSInternalException: 1 });
  });
});
