import { describe, expect, it } from "vitest";
import { canaryForms, canaryNeedles, containsAny } from "./needles.ts";

describe("canary needles", () => {
  const canary = "CANARY-Zq81-fullName";
  const needles = canaryNeedles(canary);

  it("finds the canary however it was encoded", () => {
    const forms = [
      `x${canary}y`,
      Buffer.from(canary, "utf16le").toString("latin1"),
      encodeURIComponent(`a ${canary}`),
      Buffer.from(canary).toString("hex"),
      Buffer.from(`a${canary}`).toString("base64"),
      Buffer.from(`ab${canary}`).toString("base64"),
      Buffer.from(`abc${canary}`).toString("base64url"),
    ];
    for (const f of forms) expect(containsAny(Buffer.from(f, "latin1"), needles)).toBe(true);
  });

  it("does not fire on unrelated data", () => {
    expect(containsAny(Buffer.from("nothing to see here, CANARY-other"), needles)).toBe(false);
  });

  it("has the plain, base64, base64url, percent-encoded and JSON-escaped forms of a value", () => {
    const value = 'Canary "Zoë" a/b+c?d 7f3e';
    const forms = canaryForms(value);
    const inside = (text: string) => forms.some((f) => text.includes(f));
    expect(inside(`{"fullName":${JSON.stringify(value)}}`)).toBe(true);
    expect(
      inside(
        JSON.stringify({ v: value })
          .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
          .replace(/\//g, "\\/"),
      ),
    ).toBe(true);
    expect(inside(`q=${encodeURIComponent(value)}&r=1`)).toBe(true);
    expect(inside(new URLSearchParams({ q: value }).toString())).toBe(true);
    for (const prefix of ["", "a", "ab"]) {
      expect(inside(Buffer.from(`${prefix}${value}`).toString("base64"))).toBe(true);
      expect(inside(Buffer.from(`${prefix}${value}`).toString("base64url"))).toBe(true);
    }
    expect(inside("Canary Zoe a/b+c?d 7f3e")).toBe(false);
  });
});
