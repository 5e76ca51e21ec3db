import { describe, expect, it } from "vitest";
import { recordFields, sensitiveFields, writableFields } from "./classification.ts";
import { assertValidFlePatterns, fleFields, fleLimits } from "./fle.ts";

describe("classification", () => {
  it("marks exactly the public sensitive fields as high", () => {
    expect([...sensitiveFields].sort()).toEqual(
      ["dateOfBirth", "diagnosis", "email", "fullName", "insuranceNumber", "notes", "phone"].sort(),
    );
  });

  it("derives the FLE list from the classification, within CloudFront's rules", () => {
    expect(fleFields).toEqual(sensitiveFields);
    expect(fleFields.length).toBeLessThanOrEqual(fleLimits.maxFields);
    for (const f of fleFields)
      expect(recordFields[f as keyof typeof recordFields].maxLength * 4).toBeLessThanOrEqual(
        fleLimits.maxFieldBytes,
      );
  });

  it("lets clients write the sensitive fields and the category, nothing the server sets", () => {
    expect([...writableFields].sort()).toEqual([...sensitiveFields, "category"].sort());
  });

  it("rejects FLE pattern lists CloudFront would reject", () => {
    expect(() => assertValidFlePatterns(Array.from({ length: 11 }, (_, i) => `f${i}`))).toThrow(/at most 10/);
    expect(() => assertValidFlePatterns(["bad name"])).toThrow(/invalid/);
    expect(() => assertValidFlePatterns(["x".repeat(129)])).toThrow(/invalid/);
    expect(() => assertValidFlePatterns(["card*", "cardNumber"])).toThrow(/overlap/);
    expect(() => assertValidFlePatterns(["a", "a"])).toThrow(/duplicate/);
    expect(() => assertValidFlePatterns(["name", "items[0].value", "pre-fix_*"])).not.toThrow();
  });
});
