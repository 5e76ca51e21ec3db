import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.ts";
import { isCanonicalId, splitSensitive, validateRecordInput } from "./validate.ts";

const good = {
  category: "cardiology",
  fullName: "Ada Muster",
  dateOfBirth: "1980-02-29",
  insuranceNumber: "CH-756.1234.5678.97",
  email: "ada@example.ch",
  phone: "+41 44 123 45 67",
  diagnosis: "Arrhythmia",
  notes: "Follow-up in 3 months.\nBring ECG.",
};

function issuesOf(input: Record<string, string>) {
  try {
    validateRecordInput(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  return [];
}

describe("validateRecordInput", () => {
  it("accepts a complete record and splits off the sensitive part", () => {
    const v = validateRecordInput(good);
    const { sensitive, category } = splitSensitive(v);
    expect(category).toBe("cardiology");
    expect(Object.keys(sensitive)).not.toContain("category");
    expect(sensitive.fullName).toBe("Ada Muster");
  });

  it("names each bad field and its rule", () => {
    const issues = issuesOf({ ...good, dateOfBirth: "1980-02-30", email: "nope", category: "x", id: "1" });
    expect(issues.map((i) => [i.field, i.code]).sort()).toEqual(
      [
        ["category", "invalid"],
        ["dateOfBirth", "invalid"],
        ["email", "invalid"],
        ["id", "unknown"],
      ].sort(),
    );
  });

  it("requires the required fields and treats blanks as missing", () => {
    const issues = issuesOf({ category: "general", fullName: "  ", dateOfBirth: "" });
    expect(issues.map((i) => i.field).sort()).toEqual(["dateOfBirth", "fullName"]);
  });

  it("rejects dates in the future and values that are too long", () => {
    expect(issuesOf({ ...good, dateOfBirth: "2999-01-01" })[0]?.field).toBe("dateOfBirth");
    expect(issuesOf({ ...good, notes: "x".repeat(4001) })[0]?.code).toBe("tooLong");
  });

  it("never echoes a value in an error message", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 6, maxLength: 40 }), (canary) => {
        const marked = `CANARY${canary}`;
        for (const field of ["email", "phone", "dateOfBirth", "insuranceNumber", "category", marked]) {
          try {
            validateRecordInput({ ...good, [field]: `${marked}\u0001` });
          } catch (e) {
            const err = e as ValidationError;
            const text = `${err.message} ${JSON.stringify(err.issues)}`;
            if (field !== marked) expect(text).not.toContain(marked);
          }
        }
      }),
    );
  });
});

describe("isCanonicalId", () => {
  const id = "0b9d2c9e-8a4f-4a57-9a3c-3f1e2d4c5b6a";

  it("accepts a lower-case UUID and no other spelling of it", () => {
    expect(isCanonicalId(id)).toBe(true);
    for (const other of [
      id.toUpperCase(),
      id.replace("b", "B"),
      `{${id}}`,
      `urn:uuid:${id}`,
      id.replaceAll("-", ""),
      ` ${id}`,
      `${id}\n`,
      `${id}/`,
      "",
      undefined,
      42,
    ]) {
      expect(isCanonicalId(other), String(other)).toBe(false);
    }
  });

  it("accepts exactly what crypto.randomUUID and PostgreSQL produce (fast-check)", () => {
    fc.assert(
      fc.property(fc.uuid(), (u) => isCanonicalId(u) && !isCanonicalId(u.toUpperCase()) === /[a-f]/.test(u)),
    );
    for (let i = 0; i < 100; i += 1) expect(isCanonicalId(crypto.randomUUID())).toBe(true);
  });
});
