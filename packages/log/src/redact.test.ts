import { sensitiveFields } from "@veil/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isSensitiveKey, REDACTED } from "./keys.ts";
import { redact, redactText } from "./redact.ts";

const spellings = (field: string) => [
  field,
  field.toUpperCase(),
  field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
  `patient${field[0]?.toUpperCase()}${field.slice(1)}`,
];

const pemLine = (edge: "BEGIN" | "END", kind = "") => `-----${edge} ${kind}PRIVATE ${"KEY"}-----`;

describe("redact: driven by the classification", () => {
  it("redacts every sensitive field of the classification, in any spelling and place", () => {
    expect(sensitiveFields.length).toBeGreaterThan(0);
    for (const field of sensitiveFields) {
      for (const key of spellings(field)) {
        expect(isSensitiveKey(key), key).toBe(true);
        const value = `plain value of ${key}`;
        const out = JSON.stringify(
          redact({
            direct: { [key]: value },
            list: [{ [key]: value }],
            query: `/api?${key}=${encodeURIComponent(value)}&page=1`,
            json: JSON.stringify({ [key]: value }),
            header: `${key}: ${value}`,
          }),
        );
        expect(out, key).not.toContain(value);
        expect(out, key).not.toContain(encodeURIComponent(value));
      }
    }
  });

  it("keeps metadata that is not classified sensitive", () => {
    expect(redact({ category: "cardiology", requestId: "0b9e…", count: 3, ok: true })).toEqual({
      category: "cardiology",
      requestId: "0b9e…",
      count: 3,
      ok: true,
    });
    expect(redactText("GET /api/records?page=2&category=general 200")).toBe(
      "GET /api/records?page=2&category=general 200",
    );
  });
});

describe("redactText", () => {
  it.each([
    ["e-mail", "mail ada@example.ch now", "mail [REDACTED] now"],
    ["phone", "call +41 44 123 45 67.", "call [REDACTED]."],
    ["insurance", "card CH-756.1234.5678.97 ok", "card [REDACTED] ok"],
    ["bare AHV number", "ahv 756.1234.5678.97.", "ahv [REDACTED]."],
    ["query string", "/r?email=ada%40x.ch&page=2", "/r?email=[REDACTED]&page=2"],
    ["PII under an unknown form key", "a=1&contact=ada%40x.ch", "a=1&contact=[REDACTED]"],
    ["form body", "fullName=Ada+Muster&dateOfBirth=1980-02-29", "fullName=[REDACTED]&dateOfBirth=[REDACTED]"],
    ["JSON fragment", 'bad {"notes": "x, y", "n": 1', 'bad {"notes": "[REDACTED]", "n": 1'],
    ["nested JSON fragment", 'x {"a": {"diagnosis": "flu"}', 'x {"a": {"diagnosis": "[REDACTED]"}'],
    ["header line", "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x", "Authorization: [REDACTED]"],
    ["bearer", "sent Bearer abc.def", "sent Bearer [REDACTED]"],
    ["JWT", "t=1 eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_x", "t=1 [REDACTED]"],
    ["AWS secret", "k wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "k [REDACTED]"],
    ["AWS key id", "id AKIAIOSFODNN7EXAMPLE", "id [REDACTED]"],
    [
      "pg DETAIL",
      "Key (owner_id, email)=(u1, a) already exists.",
      "Key (owner_id, email)=([REDACTED]) already exists.",
    ],
    ["env dump", "AWS_SESSION_TOKEN=IQoJb3JpZ2luX2VjEE", "AWS_SESSION_TOKEN=[REDACTED]"],
    ["cookie", "cookie: a=1; b=2\nnext", "cookie: [REDACTED]\nnext"],
  ])("%s", (_what, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it("redacts PEM private keys, even when cut off", () => {
    // Fake, truncated PEM shapes, assembled at run time so no key-looking block sits in the repository.
    const pem = `${pemLine("BEGIN", "RSA ")}\nMIIEpAIBAAKCAQEA\n${pemLine("END", "RSA ")}`;
    expect(redactText(`key ${pem} end`)).toBe(`key ${REDACTED} end`);
    expect(redactText(`${pemLine("BEGIN")}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC`)).toBe(REDACTED);
  });

  it("keeps hex digests, ISO timestamps, UUIDs and ARNs readable", () => {
    const text =
      "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 at 2026-01-02T03:04:05.000Z id 0b0f6c1e-2f0a-4d43-9d7c-2a8b8c3e4f50";
    expect(redactText(text)).toBe(text);
  });

  it("handles long repetitive input (no quadratic blow-up paths left unbounded)", () => {
    for (const unit of ["a=", "a: ", '{"a": [', "a=+", "x@a.", "Key (", pemLine("BEGIN"), '"email":"']) {
      const text = unit.repeat(Math.ceil(30_000 / unit.length));
      expect(typeof redactText(text)).toBe("string");
    }
  });

  it("is idempotent and total on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const once = redactText(s);
        expect(redactText(once)).toBe(once);
      }),
    );
  });
});

describe("redact: hostile values", () => {
  it("never throws and never prints buffer contents", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    const err = new Error("x");
    (err as Error & { cause: unknown }).cause = err;
    let deep: unknown = "bottom";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const throwing = Object.defineProperty({}, "boom", {
      enumerable: true,
      get() {
        throw new Error("getter");
      },
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("trap");
        },
      },
    );
    const input = {
      cyclic,
      err,
      deep,
      throwing,
      proxy,
      big: 2n ** 70n,
      sym: Symbol("s"),
      fn: () => 1,
      buf: Buffer.from("the-secret"),
      ab: new ArrayBuffer(4),
      nan: Number.NaN,
      date: new Date(Number.NaN),
      long: "x".repeat(100_000),
    };
    const out = redact(input) as Record<string, unknown>;
    const text = JSON.stringify(out);
    expect(text).not.toContain("the-secret");
    expect(out.buf).toBe("[binary 10 bytes]");
    expect(out.ab).toBe("[binary 4 bytes]");
    expect(out.cyclic).toEqual({ me: "[circular]" });
    expect((out.err as { cause: unknown }).cause).toBe("[circular]");
    expect(out.big).toBe("1180591620717411303424");
    expect(out.throwing).toEqual({ boom: "[unreadable]" });
    expect(out.proxy).toBe("[unserializable]");
    expect(text).toContain("[too deep]");
    expect((out.long as string).length).toBeLessThan(40_000);
  });

  it("hides a key that is itself personal data", () => {
    expect(redact({ "ada@example.ch": { visits: 3 } })).toEqual({ [REDACTED]: REDACTED });
  });

  it("redacts the values after credential names in flat header lists", () => {
    expect(redact(["Host", "h", "Cookie", "sid=1", "Authorization", "x"])).toEqual([
      "Host",
      "h",
      "Cookie",
      REDACTED,
      "Authorization",
      REDACTED,
    ]);
  });
});
