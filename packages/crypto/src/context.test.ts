import { describe, expect, it } from "vitest";
import { assertContextMatches, kmsContextOf, messageContext, signerKeyName } from "./context.ts";
import { ContextMismatchError, CryptoConfigError } from "./errors.ts";

const expected = messageContext(
  { app: "veil", stage: "dev" },
  { ownerId: "o", recordId: "r", purpose: "record.sensitive" },
);

describe("encryption context", () => {
  it("matches exactly, and names (never values) what differs", () => {
    expect(() => assertContextMatches({ ...expected }, expected, false)).not.toThrow();
    const err = (() => {
      try {
        assertContextMatches({ ...expected, ownerId: "x", extra: "secret-value" }, expected, false);
      } catch (e) {
        return e as ContextMismatchError;
      }
    })();
    expect(err).toBeInstanceOf(ContextMismatchError);
    expect(err?.keys).toEqual(["ownerId", "extra"]);
    expect(err?.message).not.toContain("secret-value");
  });

  it("a missing key is a mismatch", () => {
    const { recordId: _, ...partial } = expected;
    expect(() => assertContextMatches(partial, expected, false)).toThrow(ContextMismatchError);
  });

  it("the signer key is required for signed suites and refused for unsigned ones", () => {
    const withSigner = { ...expected, [signerKeyName]: "AQID" };
    expect(() => assertContextMatches(withSigner, expected, true)).not.toThrow();
    expect(() => assertContextMatches(withSigner, expected, false)).toThrow(ContextMismatchError);
    expect(() => assertContextMatches({ ...expected }, expected, true)).toThrow(ContextMismatchError);
  });

  it("KMS sees app, stage, purpose (and the signer key), never owner or record", () => {
    expect(kmsContextOf({ ...expected, [signerKeyName]: "AQID" })).toEqual({
      app: "veil",
      stage: "dev",
      purpose: "record.sensitive",
      [signerKeyName]: "AQID",
    });
  });

  it("refuses empty, overlong or control-character values", () => {
    const deployment = { app: "veil", stage: "dev" };
    for (const bad of ["", "a".repeat(257), "a\nb", "a\u0000"]) {
      expect(() => messageContext(deployment, { ownerId: bad, recordId: "r", purpose: "p" })).toThrow(
        CryptoConfigError,
      );
    }
  });
});
