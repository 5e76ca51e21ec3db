import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { fleFields, sensitiveFields } from "@veil/core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { CryptoConfigError, FleFieldNotAllowedError, FleFormatError } from "../errors.ts";
import { generateFleKeyPair } from "../testing/keys.ts";
import { encryptFleField } from "./fle-field.ts";
import { decryptFleForm, encryptFleForm } from "./fle-form.ts";

const names = { providerId: "veil-fle-provider", keyName: "veil-fle-key-1" };
let enc: { publicKeyPem: string; providerId: string; keyName: string };
let dec: { privateKeyPem: string; providerId: string; keyName: string };

beforeAll(() => {
  const pair = generateFleKeyPair();
  enc = { publicKeyPem: pair.publicKeyPem, ...names };
  dec = { privateKeyPem: pair.privateKeyPem, ...names };
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe("encryptFleForm → decryptFleForm", () => {
  it("round trips any values of the FLE fields and leaves other fields alone", async () => {
    const values = fc.string({ unit: "grapheme", maxLength: 80 });
    const record = fc.record(
      {
        category: values,
        ...Object.fromEntries(sensitiveFields.map((f) => [f, values.filter((v) => v !== "")])),
      },
      { requiredKeys: ["category"] },
    );
    await fc.assert(
      fc.asyncProperty(record, async (fields) => {
        const body = form(fields);
        const encrypted = await encryptFleForm(body, enc);
        for (const name of Object.keys(fields)) {
          const raw = new URLSearchParams(encrypted).get(name);
          if (fleFields.includes(name)) expect(raw).not.toBe(fields[name as keyof typeof fields]);
        }
        expect(await decryptFleForm(encrypted, dec)).toEqual(fields);
      }),
      { numRuns: 30 },
    );
  });

  it("keeps non-FLE pairs byte for byte and encrypts exactly the FLE fields present", async () => {
    const body = "category=general&x-extra=a%20b+c&fullName=Ada+Lovelace&phone=";
    const encrypted = await encryptFleForm(body, enc);
    const segments = encrypted.split("&");
    expect(segments[0]).toBe("category=general");
    expect(segments[1]).toBe("x-extra=a%20b+c");
    expect(segments[2]).toMatch(/^fullName=AYAB/);
    expect(segments[3]).toBe("phone=");
    expect(await decryptFleForm(encrypted, { ...dec, fleFields: [...fleFields] })).toEqual({
      category: "general",
      "x-extra": "a b c",
      fullName: "Ada Lovelace",
      phone: "",
    });
  });

  it("accepts bytes, a raw '+' in base64 and stripped padding", async () => {
    const b64 = await encryptFleField("Grace Hopper", enc);
    const raw = `fullName=${b64.replace(/=+$/, "")}&category=general`;
    expect(await decryptFleForm(Buffer.from(raw), dec)).toEqual({
      fullName: "Grace Hopper",
      category: "general",
    });
  });

  it("an injected field list with a prefix pattern decides what is FLE", async () => {
    const options = { fleFields: ["secret.*", "ssn"] };
    const encrypted = await encryptFleForm("secret.a=1&secret.b=2&ssn=3&fullName=clear", {
      ...enc,
      ...options,
    });
    expect(encrypted).toMatch(/fullName=clear$/);
    expect(await decryptFleForm(encrypted, { ...dec, ...options })).toEqual({
      "secret.a": "1",
      "secret.b": "2",
      ssn: "3",
      fullName: "clear",
    });
  });
});

describe("decryptFleForm fails closed", () => {
  it("an FLE field that arrived in clear is refused (the edge did not encrypt it)", async () => {
    const err = await decryptFleForm("category=general&fullName=Ada+Lovelace", dec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleFieldNotAllowedError);
    expect(err).toMatchObject({ field: "fullName", reason: "notEncrypted", status: 400 });
    expect((err as Error).message).not.toContain("Ada");
  });

  it("an encrypted value in a field that is not declared FLE is refused", async () => {
    const b64 = encodeURIComponent(await encryptFleField("x", enc));
    const err = await decryptFleForm(`category=${b64}`, dec).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "FleFieldNotAllowedError", field: "category", reason: "notDeclared" });
  });

  it("an encrypted value in an undeclared field is refused however its base64 arrives", async () => {
    const b64 = await encryptFleField("x", enc);
    const variants = [
      b64,
      encodeURIComponent(b64),
      b64.replace(/=+$/, ""),
      b64.replace(/\+/g, "-").replace(/\//g, "_"),
    ];
    for (const value of variants) {
      await expect(decryptFleForm(`category=${value}`, dec)).rejects.toMatchObject({
        name: "FleFieldNotAllowedError",
        reason: "notDeclared",
      });
    }
  });

  it("a declared field whose value holds no Encryption SDK message is refused as clear", async () => {
    // Valid base64, but of bytes that only look like a message: the SDK's header parser decides.
    const lookalike = Buffer.concat([Buffer.from([0x01, 0x80, 0x01, 0x78]), Buffer.alloc(120, 7)]);
    for (const value of [encodeURIComponent(lookalike.toString("base64")), "QUJD", "Ada+Lovelace"]) {
      await expect(decryptFleForm(`fullName=${value}`, dec)).rejects.toMatchObject({
        name: "FleFieldNotAllowedError",
        reason: "notEncrypted",
      });
    }
  });

  it("every field is checked before the private key is used", async () => {
    // An unusable key surfaces only when RSA work starts: the policy refusals come first.
    const noKey = { ...dec, privateKeyPem: "not a key" };
    const good = encodeURIComponent(await encryptFleField("x", enc));
    const other = new RawRsaKeyringNode({
      keyNamespace: names.providerId,
      keyName: names.keyName,
      rsaKey: { publicKey: enc.publicKeyPem },
      oaepHash: "sha256",
    });
    const committing = (
      await buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT).encrypt(other, "x")
    ).result;
    const cases: Array<[string, Record<string, string>]> = [
      [`fullName=${good}&category=${good}`, { name: "FleFieldNotAllowedError", reason: "notDeclared" }],
      [`fullName=${good}&email=Ada`, { name: "FleFieldNotAllowedError", reason: "notEncrypted" }],
      [
        `fullName=${good}&email=${encodeURIComponent(committing.toString("base64"))}`,
        { name: "FleDecryptError", reason: "unsupportedSuite", field: "email" },
      ],
    ];
    for (const [body, expected] of cases) {
      await expect(decryptFleForm(body, noKey)).rejects.toMatchObject(expected);
    }
    await expect(decryptFleForm(`fullName=${good}`, noKey)).rejects.toBeInstanceOf(CryptoConfigError);
  });

  it("duplicate fields are refused, FLE or not", async () => {
    const b64 = encodeURIComponent(await encryptFleField("x", enc));
    for (const body of [
      `fullName=${b64}&fullName=${b64}`,
      "category=a&category=b",
      "category=a&categor%79=b",
    ]) {
      await expect(decryptFleForm(body, dec)).rejects.toMatchObject({
        name: "FleFormatError",
        reason: "duplicateField",
      });
    }
  });

  it("malformed bodies are refused with FleFormatError", async () => {
    const cases: Array<[string | Uint8Array, string]> = [
      ["category=%E0%A4%A", "badPercentEncoding"],
      ["category=%ZZ", "badPercentEncoding"],
      ["=value", "emptyName"],
      [Buffer.from([0x63, 0x3d, 0xff, 0xfe]), "notUtf8"],
      [Array.from({ length: 300 }, (_, i) => `f${i}=1`).join("&"), "tooManyFields"],
      [`notes=${"a".repeat(1024 * 1024)}`, "tooLarge"],
    ];
    for (const [body, reason] of cases) {
      const err = await decryptFleForm(body, dec).catch((e: unknown) => e);
      expect(err, reason).toBeInstanceOf(FleFormatError);
      expect(err).toMatchObject({ reason });
    }
  });

  it("an FLE value that does not decrypt is refused with FleDecryptError naming the field", async () => {
    const other = generateFleKeyPair();
    const b64 = await encryptFleField("x", { ...enc, publicKeyPem: other.publicKeyPem });
    await expect(decryptFleForm(`email=${encodeURIComponent(b64)}`, dec)).rejects.toMatchObject({
      name: "FleDecryptError",
      field: "email",
    });
  });

  it("a field named __proto__ cannot reach a prototype", async () => {
    const out = await decryptFleForm("__proto__=x&category=general", dec);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("empty FLE fields stay empty (nothing to protect)", async () => {
    expect(await decryptFleForm("phone=&notes", dec)).toEqual({ phone: "", notes: "" });
  });
});
