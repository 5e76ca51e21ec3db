import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { keyPolicy } from "./key-policy.ts";
import { ADMIN, APP, client, DEVELOPER, fixture, POLICY } from "./test-support.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
const DAY = 24 * 60 * 60 * 1000;
const text = (s: string) => new TextEncoder().encode(s);
const context = { tenant: "t-1", record: "r-1" };

/** Rejects with the error the SDK parsed, to assert its `name` (the `__type`) and HTTP status. */
async function failure(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected a failure");
}

describe("local KMS over @aws-sdk/client-kms", () => {
  let f: Fixture;
  let keyArn: string;
  beforeEach(async () => {
    f = await fixture();
    keyArn = f.kms.createKey({ policy: POLICY, description: "records", alias: "alias/veil-records" });
  });
  afterEach(async () => {
    await f.close();
  });

  it("creates, describes and lists keys and aliases", async () => {
    const admin = client(f.kms, ADMIN);
    const created = await admin.send(
      new CreateKeyCommand({ Description: "second", Policy: JSON.stringify(POLICY) }),
    );
    const meta = created.KeyMetadata!;
    expect(meta.Arn).toMatch(/^arn:aws:kms:eu-central-2:111122223333:key\/[0-9a-f-]{36}$/);
    expect(meta).toMatchObject({ KeyState: "Enabled", Enabled: true, KeySpec: "SYMMETRIC_DEFAULT" });
    expect(meta.CreationDate).toBeInstanceOf(Date);

    await admin.send(new CreateAliasCommand({ AliasName: "alias/second", TargetKeyId: meta.KeyId! }));
    for (const id of [
      meta.KeyId!,
      meta.Arn!,
      "alias/second",
      `arn:aws:kms:eu-central-2:111122223333:alias/second`,
    ]) {
      const d = await admin.send(new DescribeKeyCommand({ KeyId: id }));
      expect(d.KeyMetadata?.Arn).toBe(meta.Arn);
    }
    const keys = await admin.send(new ListKeysCommand({}));
    expect(keys.Keys?.map((k) => k.KeyArn).sort()).toEqual([keyArn, meta.Arn].sort());
    const aliases = await admin.send(new ListAliasesCommand({}));
    expect(aliases.Aliases?.map((a) => a.AliasName).sort()).toEqual(["alias/second", "alias/veil-records"]);
    expect(
      (await failure(admin.send(new CreateAliasCommand({ AliasName: "alias/second", TargetKeyId: keyArn }))))
        .name,
    ).toBe("AlreadyExistsException");
    expect((await failure(admin.send(new DescribeKeyCommand({ KeyId: "alias/nope" })))).name).toBe(
      "NotFoundException",
    );
    expect(
      (await failure(admin.send(new DescribeKeyCommand({ KeyId: "0b0e7a32-4b3a-4a8e-9a55-3cbd1f2d9e10" }))))
        .name,
    ).toBe("NotFoundException");
  });

  it("encrypts and decrypts with the encryption context bound; Decrypt needs no KeyId", async () => {
    const app = client(f.kms, APP);
    const enc = await app.send(
      new EncryptCommand({
        KeyId: "alias/veil-records",
        Plaintext: text("hello"),
        EncryptionContext: context,
      }),
    );
    expect(enc.KeyId).toBe(keyArn);
    const dec = await app.send(
      new DecryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        EncryptionContext: { record: "r-1", tenant: "t-1" },
      }),
    );
    expect(new TextDecoder().decode(dec.Plaintext)).toBe("hello");
    expect(dec.KeyId).toBe(keyArn);

    const wrong = await failure(
      app.send(
        new DecryptCommand({
          CiphertextBlob: enc.CiphertextBlob,
          EncryptionContext: { ...context, record: "r-2" },
        }),
      ),
    );
    expect(wrong).toMatchObject({ name: "InvalidCiphertextException", status: 400 });
    const missing = await failure(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    expect(missing.name).toBe("InvalidCiphertextException");

    const tampered = Buffer.from(enc.CiphertextBlob!);
    tampered[tampered.length - 20]! ^= 1;
    const t = await failure(
      app.send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })),
    );
    expect(t.name).toBe("InvalidCiphertextException");
    const garbage = await failure(
      app.send(new DecryptCommand({ CiphertextBlob: text("not a blob at all") })),
    );
    expect(garbage.name).toBe("InvalidCiphertextException");
  });

  it("generates data keys (KeySpec or NumberOfBytes) that decrypt to the same plaintext", async () => {
    const app = client(f.kms, APP);
    const dk = await app.send(
      new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256", EncryptionContext: context }),
    );
    expect(dk.Plaintext).toHaveLength(32);
    const back = await app.send(
      new DecryptCommand({ CiphertextBlob: dk.CiphertextBlob, EncryptionContext: context }),
    );
    expect(Buffer.from(back.Plaintext!).equals(Buffer.from(dk.Plaintext!))).toBe(true);

    const n = await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, NumberOfBytes: 64 }));
    expect(n.Plaintext).toHaveLength(64);
    const wp = await app.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyArn, KeySpec: "AES_128" }),
    );
    expect("Plaintext" in wp).toBe(false);
    expect(
      (await app.send(new DecryptCommand({ CiphertextBlob: wp.CiphertextBlob }))).Plaintext,
    ).toHaveLength(16);
    expect((await failure(app.send(new GenerateDataKeyCommand({ KeyId: keyArn })))).name).toBe(
      "ValidationException",
    );
  });

  it("re-encrypts under another key and context", async () => {
    const other = f.kms.createKey({ policy: POLICY });
    const app = client(f.kms, APP);
    const enc = await app.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text("move me"), EncryptionContext: context }),
    );
    const re = await app.send(
      new ReEncryptCommand({
        CiphertextBlob: enc.CiphertextBlob,
        SourceEncryptionContext: context,
        DestinationKeyId: other,
        DestinationEncryptionContext: { moved: "yes" },
      }),
    );
    expect(re).toMatchObject({ SourceKeyId: keyArn, KeyId: other });
    const dec = await app.send(
      new DecryptCommand({ CiphertextBlob: re.CiphertextBlob, EncryptionContext: { moved: "yes" } }),
    );
    expect(new TextDecoder().decode(dec.Plaintext)).toBe("move me");
    const incorrect = await failure(
      app.send(
        new DecryptCommand({
          CiphertextBlob: re.CiphertextBlob,
          KeyId: keyArn,
          EncryptionContext: { moved: "yes" },
        }),
      ),
    );
    expect(incorrect.name).toBe("IncorrectKeyException");
  });

  it("rotates on demand: new encrypts use new material, old ciphertexts still decrypt", async () => {
    const app = client(f.kms, APP);
    const admin = client(f.kms, ADMIN);
    const before = await app.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text("old"), EncryptionContext: context }),
    );
    await admin.send(new RotateKeyOnDemandCommand({ KeyId: keyArn }));
    const after = await app.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text("new"), EncryptionContext: context }),
    );
    const version = (blob: Uint8Array) => Buffer.from(blob).readUInt32BE(2 + 36);
    expect(version(before.CiphertextBlob!)).toBe(1);
    expect(version(after.CiphertextBlob!)).toBe(2);
    for (const [blob, want] of [
      [before.CiphertextBlob!, "old"],
      [after.CiphertextBlob!, "new"],
    ] as const) {
      const d = await app.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }));
      expect(new TextDecoder().decode(d.Plaintext)).toBe(want);
    }
    const rotations = await admin.send(new ListKeyRotationsCommand({ KeyId: keyArn }));
    expect(rotations.Rotations?.map((r) => r.RotationType)).toEqual(["ON_DEMAND"]);
    const status = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
    expect(status.OnDemandRotationStartDate).toBeInstanceOf(Date);
  });

  it("rotates automatically when the rotation period passes on the injected clock", async () => {
    await f.close();
    let now = Date.UTC(2030, 0, 1);
    f = await fixture({ clock: () => new Date(now) });
    keyArn = f.kms.createKey({ policy: POLICY });
    const admin = client(f.kms, ADMIN);
    const app = client(f.kms, APP);
    await admin.send(new EnableKeyRotationCommand({ KeyId: keyArn, RotationPeriodInDays: 90 }));
    const status = await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }));
    expect(status).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    expect(status.NextRotationDate?.getTime()).toBe(now + 90 * DAY);
    const old = await app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text("x") }));

    now += 91 * DAY;
    const fresh = await app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text("y") }));
    expect(Buffer.from(fresh.CiphertextBlob!).readUInt32BE(38)).toBe(2);
    expect((await app.send(new DecryptCommand({ CiphertextBlob: old.CiphertextBlob }))).Plaintext).toEqual(
      text("x"),
    );
    const rotations = await admin.send(new ListKeyRotationsCommand({ KeyId: keyArn }));
    expect(rotations.Rotations?.map((r) => r.RotationType)).toEqual(["AUTOMATIC"]);

    await admin.send(new DisableKeyRotationCommand({ KeyId: keyArn }));
    expect((await admin.send(new GetKeyRotationStatusCommand({ KeyId: keyArn }))).KeyRotationEnabled).toBe(
      false,
    );
    const bad = await failure(
      admin.send(new EnableKeyRotationCommand({ KeyId: keyArn, RotationPeriodInDays: 30 })),
    );
    expect(bad.name).toBe("ValidationException");
  });

  it("schedules deletion: crypto fails while pending, cancel brings the key back disabled, the window deletes it", async () => {
    await f.close();
    let now = Date.UTC(2030, 0, 1);
    f = await fixture({ clock: () => new Date(now) });
    keyArn = f.kms.createKey({ policy: POLICY, alias: "alias/doomed" });
    const admin = client(f.kms, ADMIN);
    const app = client(f.kms, APP);
    const enc = await app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text("bye") }));

    const tooShort = await failure(
      admin.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 6 })),
    );
    expect(tooShort.name).toBe("ValidationException");
    const scheduled = await admin.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }),
    );
    expect(scheduled).toMatchObject({ KeyState: "PendingDeletion", PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate?.getTime()).toBe(now + 7 * DAY);
    const pending = await failure(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })));
    expect(pending).toMatchObject({ name: "KMSInvalidStateException", status: 400 });
    expect((await failure(app.send(new EncryptCommand({ KeyId: keyArn, Plaintext: text("x") })))).name).toBe(
      "KMSInvalidStateException",
    );

    await admin.send(new CancelKeyDeletionCommand({ KeyId: keyArn }));
    expect((await admin.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe(
      "Disabled",
    );
    expect((await failure(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name).toBe(
      "DisabledException",
    );
    await admin.send(new EnableKeyCommand({ KeyId: keyArn }));
    expect((await app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext).toEqual(
      text("bye"),
    );

    await admin.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 }));
    now += 6 * DAY;
    expect((await admin.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState).toBe(
      "PendingDeletion",
    );
    now += 1 * DAY;
    expect((await failure(admin.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe(
      "NotFoundException",
    );
    expect((await failure(app.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).name).toBe(
      "NotFoundException",
    );
    expect((await admin.send(new ListAliasesCommand({}))).Aliases).toEqual([]);
  });

  it("disables and enables a key", async () => {
    const admin = client(f.kms, ADMIN);
    const app = client(f.kms, APP);
    await admin.send(new DisableKeyCommand({ KeyId: keyArn }));
    const d = await failure(app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" })));
    expect(d.name).toBe("DisabledException");
    await admin.send(new EnableKeyCommand({ KeyId: keyArn }));
    await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
  });

  it("enforces the key policy: users do crypto only, admins administer only, others nothing", async () => {
    const app = client(f.kms, APP);
    const admin = client(f.kms, ADMIN);
    const dev = client(f.kms, DEVELOPER);
    const enc = await app.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text("secret"), EncryptionContext: context }),
    );

    const denied = await failure(
      dev.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context })),
    );
    expect(denied).toMatchObject({ name: "AccessDeniedException", status: 400 });
    expect(denied.message).toBe(
      `User: ${DEVELOPER.arn} is not authorized to perform: kms:Decrypt on resource: ${keyArn} because no resource-based policy allows the kms:Decrypt action`,
    );
    expect((await failure(dev.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe(
      "AccessDeniedException",
    );
    expect((await failure(dev.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn })))).name).toBe(
      "AccessDeniedException",
    );

    // The administrator manages the key but may not use it.
    const adminDecrypt = await failure(
      admin.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context })),
    );
    expect(adminDecrypt.name).toBe("AccessDeniedException");
    expect(
      (await failure(admin.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" })))).name,
    ).toBe("AccessDeniedException");
    // The user uses the key but may not manage it.
    expect((await failure(app.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn })))).name).toBe(
      "AccessDeniedException",
    );
    expect((await failure(app.send(new DescribeKeyCommand({ KeyId: keyArn })))).name).toBe(
      "AccessDeniedException",
    );
    // Without an identity policy allowing it, nobody creates keys over the API.
    expect((await failure(app.send(new CreateKeyCommand({})))).name).toBe("AccessDeniedException");
  });

  it("reads and replaces the key policy (admin only), refusing a policy that locks the caller out", async () => {
    const admin = client(f.kms, ADMIN);
    const got = await admin.send(new GetKeyPolicyCommand({ KeyId: keyArn }));
    expect(JSON.parse(got.Policy!)).toEqual(POLICY);
    expect((await failure(client(f.kms, APP).send(new GetKeyPolicyCommand({ KeyId: keyArn })))).name).toBe(
      "AccessDeniedException",
    );

    const lockout = keyPolicy({ admins: [], users: [APP.role] });
    const refused = await failure(
      admin.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: JSON.stringify(lockout) })),
    );
    expect(refused.name).toBe("MalformedPolicyDocumentException");
    expect(
      (await failure(admin.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: "{not json" })))).name,
    ).toBe("MalformedPolicyDocumentException");

    // Now let the developer decrypt too, then deny them explicitly: the Deny wins.
    const widened = keyPolicy({ admins: [ADMIN.arn], users: [APP.role, DEVELOPER.arn] });
    await admin.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: JSON.stringify(widened) }));
    const enc = await client(f.kms, DEVELOPER).send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text("a") }),
    );
    const denyDev = {
      ...widened,
      Statement: [
        ...(widened.Statement as object[]),
        { Effect: "Deny", Principal: { AWS: DEVELOPER.arn }, Action: "kms:Decrypt", Resource: "*" },
      ],
    };
    await admin.send(new PutKeyPolicyCommand({ KeyId: keyArn, Policy: JSON.stringify(denyDev) }));
    const explicit = await failure(
      client(f.kms, DEVELOPER).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })),
    );
    expect(explicit.message).toContain("with an explicit deny in a resource-based policy");
  });

  it("keeps keys, aliases, material versions and policies across a restart", async () => {
    const app = client(f.kms, APP);
    const enc = await app.send(
      new EncryptCommand({
        KeyId: "alias/veil-records",
        Plaintext: text("persist"),
        EncryptionContext: context,
      }),
    );
    await client(f.kms, ADMIN).send(new RotateKeyOnDemandCommand({ KeyId: keyArn }));
    const kms = await f.restart();
    const app2 = client(kms, APP);
    const dec = await app2.send(
      new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context }),
    );
    expect(new TextDecoder().decode(dec.Plaintext)).toBe("persist");
    const again = await app2.send(new EncryptCommand({ KeyId: "alias/veil-records", Plaintext: text("v2") }));
    expect(Buffer.from(again.CiphertextBlob!).readUInt32BE(38)).toBe(2);
    expect(
      (await failure(client(kms, DEVELOPER).send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))))
        .name,
    ).toBe("AccessDeniedException");
  });

  it("never writes plaintext, data keys or ciphertexts to its state folder", async () => {
    const app = client(f.kms, APP);
    const canary = "CANARY-8f1e2d3c-plaintext";
    const enc = await app.send(
      new EncryptCommand({ KeyId: keyArn, Plaintext: text(canary), EncryptionContext: context }),
    );
    const dk = await app.send(new GenerateDataKeyCommand({ KeyId: keyArn, KeySpec: "AES_256" }));
    await client(f.kms, ADMIN).send(new EnableKeyRotationCommand({ KeyId: keyArn }));
    const files = await readdir(join(f.stateDir, "kms"));
    expect(files).toEqual(["state.json"]);
    const state = await readFile(join(f.stateDir, "kms", "state.json"));
    for (const needle of [
      Buffer.from(canary),
      Buffer.from(Buffer.from(canary).toString("base64")),
      Buffer.from(Buffer.from(dk.Plaintext!).toString("base64")),
      Buffer.from(dk.Plaintext!),
      Buffer.from(Buffer.from(enc.CiphertextBlob!).toString("base64")),
    ]) {
      expect(state.includes(needle)).toBe(false);
    }
  });
});

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
