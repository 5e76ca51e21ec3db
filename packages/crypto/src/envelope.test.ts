// Over 300 lines: one KMS stand-in shared by the envelope's property tests.
import { buildClient, CommitmentPolicy, KmsKeyringNode } from "@aws-crypto/client-node";
import { sensitiveFields } from "@veil/core";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RecordContext } from "./context.ts";
import { createInMemoryEnvelopeCrypto, type EnvelopeOptions } from "./envelope.ts";
import { ContextMismatchError, CryptoConfigError, CryptoError, KmsUnavailableError } from "./errors.ts";
import type { KmsLikeClient } from "./kms-client.ts";
import { createKmsStandIn, type KmsStandIn } from "./testing/kms-stand-in.ts";

const ctx: RecordContext = { ownerId: "owner-1", recordId: "rec-1", purpose: "record.sensitive" };

function setup(options: Partial<EnvelopeOptions> = {}, kms: KmsStandIn = createKmsStandIn()) {
  const envelope = createInMemoryEnvelopeCrypto({
    app: "veil",
    stage: "test",
    kms: { keyId: kms.keyArn, clientProvider: kms.clientProvider },
    ...options,
  });
  return { envelope, kms };
}

const fieldsArb = fc.record(
  Object.fromEntries(sensitiveFields.map((name) => [name, fc.string({ unit: "grapheme", maxLength: 300 })])),
  { requiredKeys: [] },
);

afterEach(() => {
  vi.useRealTimers();
});

describe("round trips", () => {
  it("encryptFields → decryptFields returns the fields, for both suites", async () => {
    const unsigned = setup();
    const signed = setup({ suite: "signed" });
    await fc.assert(
      fc.asyncProperty(fieldsArb, fc.boolean(), async (fields, useSigned) => {
        const { envelope } = useSigned ? signed : unsigned;
        const ciphertext = await envelope.encryptFields(fields, ctx);
        expect(await envelope.decryptFields(ciphertext, ctx)).toEqual(fields);
      }),
      { numRuns: 80 },
    );
  });

  it("encryptBytes → decryptBytes returns the bytes", async () => {
    const { envelope } = setup();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 20_000 }), async (bytes) => {
        const out = await envelope.decryptBytes(await envelope.encryptBytes(bytes, ctx), ctx);
        expect(Buffer.from(out).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it("messages are committing-suite Encryption SDK messages the stock client can read", async () => {
    const kms = createKmsStandIn();
    const { envelope } = setup({}, kms);
    const ciphertext = await envelope.encryptFields({ fullName: "Ada Lovelace" }, ctx);
    expect([...ciphertext.subarray(0, 3)]).toEqual([0x02, 0x04, 0x78]);
    const keyring = new KmsKeyringNode({
      generatorKeyId: kms.keyArn,
      clientProvider: kms.clientProvider as never,
    });
    // The stock keyring asks KMS with the whole header context: it fails, because the data key is
    // bound to the KMS context only — the reason this package has its own materials manager.
    const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    await expect(stock.decrypt(keyring, ciphertext)).rejects.toThrow();
  });

  it("a signed message decrypts with an unsigned-configured instance (both suites accepted)", async () => {
    const kms = createKmsStandIn();
    const signed = setup({ suite: "signed" }, kms).envelope;
    const unsigned = setup({}, kms).envelope;
    const ciphertext = await signed.encryptFields({ notes: "n" }, ctx);
    expect([...ciphertext.subarray(0, 3)]).toEqual([0x02, 0x05, 0x78]);
    expect(await unsigned.decryptFields(ciphertext, ctx)).toEqual({ notes: "n" });
  });
});

describe("context binding", () => {
  const swaps: Array<[string, (c: RecordContext) => RecordContext]> = [
    ["ownerId", (c) => ({ ...c, ownerId: "owner-2" })],
    ["recordId", (c) => ({ ...c, recordId: "rec-2" })],
    ["purpose", (c) => ({ ...c, purpose: "image" })],
  ];

  for (const [key, swap] of swaps) {
    it(`a ciphertext read under another ${key} fails with ContextMismatchError, before any KMS call`, async () => {
      const kms = createKmsStandIn();
      const writer = setup({}, kms).envelope;
      const ciphertext = await writer.encryptFields({ fullName: "Grace Hopper" }, ctx);
      const reader = setup({}, kms).envelope; // cold decrypt cache
      kms.resetCalls();
      const err = await reader.decryptFields(ciphertext, swap(ctx)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContextMismatchError);
      expect((err as ContextMismatchError).keys).toEqual([key]);
      expect(kms.calls.decrypt).toBe(0);
      expect(await reader.decryptFields(ciphertext, ctx)).toEqual({ fullName: "Grace Hopper" });
    });
  }

  it("another stage or app fails with ContextMismatchError", async () => {
    const kms = createKmsStandIn();
    const ciphertext = await setup({}, kms).envelope.encryptBytes(Buffer.from("x"), ctx);
    for (const other of [{ stage: "prod" }, { app: "other" }]) {
      const err = await setup(other, kms)
        .envelope.decryptBytes(ciphertext, ctx)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ContextMismatchError);
    }
  });

  it("KMS sees only {app, stage, purpose}; the header carries the whole context", async () => {
    const kms = createKmsStandIn();
    const seen: Array<Record<string, string> | undefined> = [];
    const spy: KmsLikeClient = {
      generateDataKey: (input) => {
        seen.push(input.EncryptionContext);
        return kms.client.generateDataKey(input);
      },
      encrypt: (input) => kms.client.encrypt(input),
      decrypt: (input) => {
        seen.push(input.EncryptionContext);
        return kms.client.decrypt(input);
      },
    };
    const envelope = createInMemoryEnvelopeCrypto({
      app: "veil",
      stage: "test",
      kms: { keyId: kms.keyArn, clientProvider: () => spy },
    });
    const ciphertext = await envelope.encryptBytes(Buffer.from("x"), ctx);
    envelope.clearCache();
    await envelope.decryptBytes(ciphertext, ctx);
    expect(seen).toEqual([
      { app: "veil", stage: "test", purpose: ctx.purpose },
      { app: "veil", stage: "test", purpose: ctx.purpose },
    ]);
    const header = Buffer.from(ciphertext).toString("latin1");
    for (const value of Object.values(ctx)) expect(header).toContain(value);
  });

  it("flipping any byte of a ciphertext gives a typed error", async () => {
    const { envelope } = setup();
    const ciphertext = await envelope.encryptFields({ fullName: "Alan Turing", notes: "n" }, ctx);
    for (let i = 0; i < ciphertext.byteLength; i++) {
      const copy = new Uint8Array(ciphertext);
      copy[i]! ^= 0x01;
      const err = await envelope.decryptFields(copy, ctx).then(
        () => "decrypted",
        (e: unknown) => e,
      );
      expect(err, `byte ${i}`).toBeInstanceOf(CryptoError);
      expect((err as Error).name).toMatch(/^(CiphertextError|ContextMismatchError)$/);
    }
  });

  it("no error message quotes plaintext or ciphertext", async () => {
    const { envelope } = setup();
    const secret = "Secret-Diagnosis-7f3a";
    const ciphertext = await envelope.encryptFields({ diagnosis: secret }, ctx);
    const b64 = Buffer.from(ciphertext).toString("base64").slice(0, 24);
    const errors: unknown[] = [];
    errors.push(await envelope.decryptFields(ciphertext, { ...ctx, recordId: "x" }).catch((e) => e));
    errors.push(await envelope.decryptFields(ciphertext.subarray(0, 200), ctx).catch((e) => e));
    errors.push(await envelope.decryptFields(Buffer.from(secret), ctx).catch((e) => e));
    for (const err of errors) {
      const text = `${(err as Error).message} ${JSON.stringify(err)}`;
      expect(text).not.toContain(secret);
      expect(text).not.toContain(b64);
    }
  });
});

describe("data-key caching", () => {
  it("a cold burst of 50 concurrent encrypts makes exactly 1 GenerateDataKey", async () => {
    const kms = createKmsStandIn({ latencyMs: 5 });
    const { envelope } = setup({}, kms);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        envelope.encryptFields({ fullName: `P${i}` }, { ...ctx, recordId: `rec-${i}` }),
      ),
    );
    expect(kms.calls.generateDataKey).toBe(1);
  });

  it("1000 sequential writes of different records make at most 1 GenerateDataKey", async () => {
    const { envelope, kms } = setup();
    for (let i = 0; i < 1000; i++) {
      await envelope.encryptFields(
        { fullName: `P${i}` },
        { ownerId: `o${i % 7}`, recordId: `r${i}`, purpose: "p" },
      );
    }
    expect(kms.calls.generateDataKey).toBeLessThanOrEqual(1);
  });

  it("reads of records sharing a data key make 1 KMS Decrypt; a burst of reads single-flights", async () => {
    const kms = createKmsStandIn({ latencyMs: 5 });
    const writer = setup({}, kms).envelope;
    const records = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const c = { ...ctx, recordId: `r${i}` };
        return { c, ciphertext: await writer.encryptFields({ notes: `${i}` }, c) };
      }),
    );
    const reader = setup({}, kms).envelope;
    kms.resetCalls();
    const out = await Promise.all(records.map((r) => reader.decryptFields(r.ciphertext, r.c)));
    expect(out.map((f) => f.notes)).toEqual(records.map((_, i) => `${i}`));
    expect(kms.calls.decrypt).toBe(1);
  });

  it("different purposes use different data keys", async () => {
    const { envelope, kms } = setup();
    await envelope.encryptBytes(Buffer.from("a"), ctx);
    await envelope.encryptBytes(Buffer.from("b"), { ...ctx, purpose: "image" });
    await envelope.encryptBytes(Buffer.from("c"), { ...ctx, recordId: "other" });
    expect(kms.calls.generateDataKey).toBe(2);
  });

  it("maxMessages forces a new data key", async () => {
    const { envelope, kms } = setup({ cache: { maxMessages: 3 } });
    for (let i = 0; i < 4; i++) await envelope.encryptBytes(Buffer.from("x"), ctx);
    expect(kms.calls.generateDataKey).toBe(2);
  });

  it("maxBytes forces a new data key", async () => {
    const { envelope, kms } = setup({ cache: { maxBytes: 1000 } });
    await envelope.encryptBytes(new Uint8Array(600), ctx);
    await envelope.encryptBytes(new Uint8Array(400), ctx);
    expect(kms.calls.generateDataKey).toBe(1);
    await envelope.encryptBytes(new Uint8Array(1), ctx);
    expect(kms.calls.generateDataKey).toBe(2);
  });

  it("maxAgeMs forces a new data key (encrypt) and a new unwrap (decrypt)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const { envelope, kms } = setup({ cache: { maxAgeMs: 60_000 } });
    const ciphertext = await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.decryptBytes(ciphertext, ctx);
    expect(kms.calls).toMatchObject({ generateDataKey: 1, decrypt: 1 });
    vi.setSystemTime(new Date("2026-01-01T00:00:59Z"));
    await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.decryptBytes(ciphertext, ctx);
    expect(kms.calls).toMatchObject({ generateDataKey: 1, decrypt: 1 });
    vi.setSystemTime(new Date("2026-01-01T00:01:00Z"));
    await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.decryptBytes(ciphertext, ctx);
    expect(kms.calls).toMatchObject({ generateDataKey: 2, decrypt: 2 });
  });

  it("cache: false makes one KMS call per message", async () => {
    const { envelope, kms } = setup({ cache: false });
    const c1 = await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.decryptBytes(c1, ctx);
    await envelope.decryptBytes(c1, ctx);
    expect(kms.calls).toMatchObject({ generateDataKey: 2, decrypt: 2 });
  });

  it("stats() counts KMS calls and cache use", async () => {
    const { envelope } = setup();
    const c = await envelope.encryptBytes(Buffer.from("x"), ctx);
    await envelope.encryptBytes(Buffer.from("y"), ctx);
    await envelope.decryptBytes(c, ctx);
    expect(envelope.stats()).toMatchObject({
      kmsCalls: { generateDataKey: 1, decrypt: 1, encrypt: 0 },
      encryptCache: { hits: 1, loads: 1, entries: 1 },
      decryptCache: { hits: 0, loads: 1, entries: 1 },
    });
  });
});

describe("KMS failures are typed", () => {
  it("KMS unreachable: encrypt and decrypt fail with KmsUnavailableError", async () => {
    const { envelope, kms } = setup();
    const ciphertext = await envelope.encryptBytes(Buffer.from("x"), ctx);
    envelope.clearCache();
    kms.setUnavailable(true);
    const e1 = await envelope.encryptBytes(Buffer.from("x"), ctx).catch((e: unknown) => e);
    const e2 = await envelope.decryptBytes(ciphertext, ctx).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(KmsUnavailableError);
    expect(e2).toBeInstanceOf(KmsUnavailableError);
    expect((e1 as KmsUnavailableError).kmsErrorName).toBe("ECONNREFUSED");
  });

  it("a disabled key fails with KmsUnavailableError(DisabledException)", async () => {
    const { envelope, kms } = setup();
    kms.setKeyEnabled(kms.keyArn, false);
    const err = await envelope.encryptBytes(Buffer.from("x"), ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "KmsUnavailableError", kmsErrorName: "DisabledException" });
  });

  it("a ciphertext of another KMS key is a CiphertextError", async () => {
    const kms = createKmsStandIn();
    const ciphertext = await setup({}, kms).envelope.encryptBytes(Buffer.from("x"), ctx);
    const otherKey = kms.createKey();
    const other = createInMemoryEnvelopeCrypto({
      app: "veil",
      stage: "test",
      kms: { keyId: otherKey, clientProvider: kms.clientProvider },
    });
    const err = await other.decryptBytes(ciphertext, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "CiphertextError", reason: "wrongKey" });
  });

  it("an encrypted data key rejected by KMS is a CiphertextError", async () => {
    const kms = createKmsStandIn();
    const writer = setup({}, kms).envelope;
    const ciphertext = Buffer.from(await writer.encryptBytes(Buffer.from("x"), ctx));
    // The KMS blob sits right after its length inside the header; corrupt its last byte.
    const arn = Buffer.from(kms.keyArn);
    const blobStart = ciphertext.indexOf(arn, ciphertext.indexOf(arn) + 1);
    expect(blobStart).toBeGreaterThan(0);
    ciphertext[blobStart + arn.length + 20]! ^= 0xff;
    const err = await setup({}, kms)
      .envelope.decryptBytes(ciphertext, ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "CiphertextError" });
  });
});

describe("options are checked", () => {
  it("refuses a key alias, bad cache bounds, bad context values", async () => {
    const kms = createKmsStandIn();
    expect(() =>
      createInMemoryEnvelopeCrypto({ app: "veil", stage: "t", kms: { keyId: "alias/veil" } }),
    ).toThrow(CryptoConfigError);
    expect(() =>
      createInMemoryEnvelopeCrypto({
        app: "veil",
        stage: "t",
        kms: { keyId: kms.keyArn },
        cache: { maxAgeMs: 0 },
      }),
    ).toThrow(CryptoConfigError);
    expect(() => createInMemoryEnvelopeCrypto({ app: "", stage: "t", kms: { keyId: kms.keyArn } })).toThrow(
      CryptoConfigError,
    );
    const { envelope } = setup({}, kms);
    await expect(envelope.encryptBytes(Buffer.from("x"), { ...ctx, recordId: "" })).rejects.toThrow(
      CryptoConfigError,
    );
    await expect(envelope.encryptFields({ category: "general" } as never, ctx)).rejects.toThrow(
      CryptoConfigError,
    );
  });
});
