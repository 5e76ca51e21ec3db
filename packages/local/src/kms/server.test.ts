/** The local KMS through the stock SDK client: keys and aliases, cryptography, key policies, state. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListKeysCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyPolicy } from "./key-policy.ts";
import { ADMIN, APP, client, DEVELOPER, failure, fixture, POLICY } from "./testing.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
const text = (s: string) => new TextEncoder().encode(s);
const context = { tenant: "t-1", record: "r-1" };

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
