/** RDS IAM auth tokens, byte for byte against `@aws-sdk/rds-signer` for the same credentials and clock. */
import { Signer } from "@aws-sdk/rds-signer";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AwsConfigError, AwsCredentialsError } from "./errors.ts";
import { createRdsTokenSigner } from "./rds-token.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("createRdsTokenSigner", () => {
  it("makes the token @aws-sdk/rds-signer makes, for any target, credentials and clock", async () => {
    await fc.assert(
      fc.asyncProperty(
        // Host names and IPv4 addresses: what an RDS endpoint is (other strings are refused, tested below).
        fc.oneof(fc.domain(), fc.ipV4()),
        fc.integer({ min: 1, max: 65535 }),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 16 }),
        fc.constantFrom("eu-central-2", "us-east-1", "cn-north-1"),
        fc.record(
          {
            accessKeyId: fc.stringMatching(/^A[A-Z0-9]{3,19}$/),
            secretAccessKey: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }),
            sessionToken: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 60 }),
          },
          { requiredKeys: ["accessKeyId", "secretAccessKey"] },
        ),
        fc.date({ min: new Date("2001-01-01"), max: new Date("2099-12-31"), noInvalidDate: true }),
        async (hostname, port, username, region, credentials, date) => {
          vi.useFakeTimers({ toFake: ["Date"] });
          vi.setSystemTime(date);
          const theirs = await new Signer({ hostname, port, username, region, credentials }).getAuthToken();
          vi.useRealTimers();
          const ours = await createRdsTokenSigner({
            hostname,
            port,
            username,
            region,
            credentials,
            now: () => date,
          }).getAuthToken();
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is a presigned connect URL without scheme, valid 15 minutes", async () => {
    const token = await createRdsTokenSigner({
      hostname: "db.example.internal",
      port: 5432,
      username: "veil_app",
      env: { AWS_REGION: "eu-central-2", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "s" },
      now: () => new Date("2026-05-01T10:00:00Z"),
    }).getAuthToken();
    expect(token).toMatch(
      /^db\.example\.internal:5432\/\?Action=connect&DBUser=veil_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260501%2Feu-central-2%2Frds-db%2Faws4_request&X-Amz-Date=20260501T100000Z&X-Amz-Expires=900&X-Amz-Signature=[0-9a-f]{64}&X-Amz-SignedHeaders=host$/,
    );
  });

  it("fails closed without credentials or region, and refuses a bad target", async () => {
    const target = { hostname: "db", port: 5432, username: "u" };
    await expect(
      createRdsTokenSigner({ ...target, region: "eu-central-2", env: {} }).getAuthToken(),
    ).rejects.toBeInstanceOf(AwsCredentialsError);
    await expect(
      createRdsTokenSigner({
        ...target,
        env: { AWS_ACCESS_KEY_ID: "A", AWS_SECRET_ACCESS_KEY: "s" },
      }).getAuthToken(),
    ).rejects.toBeInstanceOf(AwsConfigError);
    expect(() => createRdsTokenSigner({ ...target, port: 0 })).toThrow(AwsConfigError);
    // A name URL parsing would rewrite (`0x1` → `0.0.0.1`) is refused rather than signed for another host.
    expect(() => createRdsTokenSigner({ ...target, hostname: "0x1" })).toThrow(AwsConfigError);
    expect(() => createRdsTokenSigner({ ...target, hostname: "db/x" })).toThrow(AwsConfigError);
  });

  it("never signs with credentials that would expire before the token does", async () => {
    const at = new Date("2026-05-01T10:00:00Z");
    const signer = (minutes: number) =>
      createRdsTokenSigner({
        hostname: "db.example.internal",
        port: 5432,
        username: "veil_app",
        region: "eu-central-2",
        credentials: {
          accessKeyId: "ASIAEXAMPLE",
          secretAccessKey: "s",
          sessionToken: "t",
          expiration: new Date(at.getTime() + minutes * 60_000),
        },
        now: () => at,
      });
    await expect(signer(10).getAuthToken()).rejects.toBeInstanceOf(AwsCredentialsError);
    await expect(signer(-1).getAuthToken()).rejects.toBeInstanceOf(AwsCredentialsError);
    await expect(signer(16).getAuthToken()).resolves.toMatch(/X-Amz-Security-Token=t&/);
  });

  it("signs port 443 and upper-case host names like rds-signer (host:port, lower case)", async () => {
    const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s" };
    const date = new Date("2026-05-01T10:00:00Z");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(date);
    const target = { hostname: "db.example.internal", port: 443, username: "u", region: "eu-central-2" };
    const theirs = await new Signer({ ...target, credentials }).getAuthToken();
    vi.useRealTimers();
    const ours = await createRdsTokenSigner({
      ...target,
      hostname: "DB.Example.Internal",
      credentials,
      now: () => date,
    }).getAuthToken();
    expect(ours).toBe(theirs);
    expect(ours.startsWith("db.example.internal:443/?")).toBe(true);
  });
});
