/** The local KMS key lifecycle through the stock SDK client: rotation, deletion, disable and enable. */
import {
  CancelKeyDeletionCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, APP, client, failure, fixture, POLICY } from "./testing.ts";

type Fixture = Awaited<ReturnType<typeof fixture>>;
const DAY = 24 * 60 * 60 * 1000;
const text = (s: string) => new TextEncoder().encode(s);
const context = { tenant: "t-1", record: "r-1" };

describe("local KMS key lifecycle over @aws-sdk/client-kms", () => {
  let f: Fixture;
  let keyArn: string;
  beforeEach(async () => {
    f = await fixture();
    keyArn = f.kms.createKey({ policy: POLICY, description: "records", alias: "alias/veil-records" });
  });
  afterEach(async () => {
    await f.close();
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
});
