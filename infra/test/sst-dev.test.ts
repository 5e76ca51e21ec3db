import { beforeAll, describe, expect, it } from "vitest";
import { type Stack, synthesize } from "./harness.ts";

/** `sst dev` on a personal stage: handlers run on the laptop, except what must never be there. */
describe("sst dev on a personal stage", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await synthesize(
      "alice",
      { VEIL_KEY_ADMIN_ROLE_ARN: "arn:aws:iam::123456789012:role/alice", VEIL_PERSONAL_STAGE: "alice" },
      { dev: true },
    );
  }, 120_000);

  it("builds the database and FLE key bootstraps and the key rotation for AWS instead of proxying them to the laptop", () => {
    expect(Object.keys(s.builds).sort()).toEqual(["DbBootstrap", "FleKeyBootstrap", "RotateApiKey"]);
  });

  it("uses the dev settings under the personal stage's names and the given key admin", () => {
    const key = JSON.parse(s.get("aws:kms/key:Key", "DataKey").inputs.policy);
    expect(JSON.stringify(key)).toContain("arn:aws:iam::123456789012:role/alice");
    expect(s.get("aws:rds/instance:Instance", "Database").inputs.identifier).toBe("veil-alice-db");
    expect(s.outputs.url).toBe("https://alice.dev.veil.example.com");
  });
});
