import { describe, expect, it } from "vitest";
import { canaryNeedles, containsAny } from "./needles.ts";

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
});
