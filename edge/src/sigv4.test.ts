/** The remembered signing key must never outlive a change of secret, day, region or service. */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signingKey } from "./sigv4.ts";

const derive = (secret: string, date: string, region: string, service: string) => {
  const h = (k: Buffer | string, d: string) => createHmac("sha256", k).update(d).digest();
  return h(h(h(h(`AWS4${secret}`, date), region), service), "aws4_request");
};

describe("signingKey", () => {
  it("derives afresh whenever any input changes, and again when it changes back", () => {
    const cases: Array<[string, string, string, string]> = [
      ["secret-a", "20260304", "eu-west-1", "execute-api"],
      ["secret-a", "20260304", "eu-west-1", "execute-api"],
      ["secret-b", "20260304", "eu-west-1", "execute-api"],
      ["secret-b", "20260305", "eu-west-1", "execute-api"],
      ["secret-b", "20260305", "us-east-1", "execute-api"],
      ["secret-b", "20260305", "us-east-1", "kms"],
      ["secret-a", "20260304", "eu-west-1", "execute-api"],
    ];
    for (const c of cases)
      expect(signingKey(...c).toString("hex"), c.join(" ")).toBe(derive(...c).toString("hex"));
  });
});
