import { describe, expect, it, vi } from "vitest";

// A field added to the classification must be redacted without touching this package.
vi.mock("@veil/core", async (importOriginal) => {
  const core = await importOriginal<typeof import("@veil/core")>();
  return { ...core, sensitiveFields: [...core.sensitiveFields, "shoeSize"] };
});

describe("redaction follows the classification", () => {
  it("redacts a field as soon as core classifies it as sensitive", async () => {
    const { redact, redactText } = await import("./redact.ts");
    expect(redact({ shoeSize: "44", shoe_size: "44", other: "kept" })).toEqual({
      shoeSize: "[REDACTED]",
      shoe_size: "[REDACTED]",
      other: "kept",
    });
    expect(redactText("/api?shoeSize=44&x=1")).toBe("/api?shoeSize=[REDACTED]&x=1");
  });
});
