/** Credentials: the environment, static ones, and the fail-closed check before every signature. */
import { describe, expect, it } from "vitest";
import {
  type AwsCredentials,
  environmentCredentials,
  readEnvironmentCredentials,
  signingCredentials,
  toCredentialsProvider,
} from "./credentials.ts";
import { AwsCredentialsError } from "./errors.ts";

const now = Date.parse("2026-05-01T10:00:00Z");
const keys = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret-CANARY-91c2", sessionToken: "t" };
const expiringAt = (ms: number): AwsCredentials => ({ ...keys, expiration: new Date(now + ms) });
const sign = (creds: AwsCredentials, minValidityMs = 60_000) =>
  signingCredentials(async () => creds, { minValidityMs, now, label: "kms" });

describe("signingCredentials (fail closed)", () => {
  it("passes credentials without expiration, or valid beyond the minimum", async () => {
    await expect(sign(keys)).resolves.toBe(keys);
    const later = expiringAt(61_000);
    await expect(sign(later)).resolves.toBe(later);
  });

  it("refuses credentials that are expired, expire within the minimum, or have no valid date", async () => {
    for (const creds of [
      expiringAt(-1),
      expiringAt(0),
      expiringAt(59_999),
      { ...keys, expiration: new Date(Number.NaN) },
    ]) {
      const err = await sign(creds).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AwsCredentialsError);
      expect(String((err as Error).message)).not.toContain(keys.secretAccessKey);
    }
    // The minimum is the caller's: 15 minutes for an RDS token.
    await expect(sign(expiringAt(10 * 60_000), 15 * 60_000)).rejects.toBeInstanceOf(AwsCredentialsError);
  });

  it("asks the provider for the minimum, so a provider that can refresh does", async () => {
    const asked: Array<number | undefined> = [];
    const provider = async (request?: { minValidityMs?: number }) => {
      asked.push(request?.minValidityMs);
      return request?.minValidityMs === 900_000 ? expiringAt(3_600_000) : expiringAt(120_000);
    };
    await expect(
      signingCredentials(provider, { minValidityMs: 900_000, now, label: "rds-db" }),
    ).resolves.toMatchObject({ accessKeyId: keys.accessKeyId });
    expect(asked).toEqual([900_000]);
  });

  it("refuses incomplete credentials and hides a failing provider's message", async () => {
    await expect(sign({ accessKeyId: "A", secretAccessKey: "" })).rejects.toBeInstanceOf(AwsCredentialsError);
    await expect(sign({ accessKeyId: "", secretAccessKey: "s" })).rejects.toBeInstanceOf(AwsCredentialsError);
    const err = await signingCredentials(
      async () => {
        throw new Error(`read ${keys.secretAccessKey}`);
      },
      { minValidityMs: 0, now, label: "kms" },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCredentialsError);
    expect((err as Error).message).not.toContain(keys.secretAccessKey);
  });
});

describe("environment credentials", () => {
  it("reads the Lambda variables, with AWS_CREDENTIAL_EXPIRATION when set", () => {
    expect(readEnvironmentCredentials({})).toBeUndefined();
    expect(readEnvironmentCredentials({ AWS_ACCESS_KEY_ID: "A" })).toBeUndefined();
    expect(
      readEnvironmentCredentials({
        AWS_ACCESS_KEY_ID: "A",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_SESSION_TOKEN: "",
      }),
    ).toEqual({ accessKeyId: "A", secretAccessKey: "s" });
    expect(
      readEnvironmentCredentials({
        AWS_ACCESS_KEY_ID: "A",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_SESSION_TOKEN: "t",
        AWS_CREDENTIAL_EXPIRATION: "2026-05-01T11:00:00Z",
      }),
    ).toEqual({
      accessKeyId: "A",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date("2026-05-01T11:00:00Z"),
    });
    expect(() =>
      readEnvironmentCredentials({
        AWS_ACCESS_KEY_ID: "A",
        AWS_SECRET_ACCESS_KEY: "s",
        AWS_CREDENTIAL_EXPIRATION: "soon",
      }),
    ).toThrow(AwsCredentialsError);
  });

  it("reads the variables at each call and rejects when they are unset", async () => {
    const env: Record<string, string | undefined> = {};
    const provider = environmentCredentials(env);
    await expect(provider()).rejects.toBeInstanceOf(AwsCredentialsError);
    env.AWS_ACCESS_KEY_ID = "A2";
    env.AWS_SECRET_ACCESS_KEY = "s2";
    await expect(provider()).resolves.toEqual({ accessKeyId: "A2", secretAccessKey: "s2" });
  });

  it("turns static credentials, a provider or nothing into a provider", async () => {
    await expect(toCredentialsProvider(keys)()).resolves.toBe(keys);
    const own = async () => keys;
    expect(toCredentialsProvider(own)).toBe(own);
    await expect(
      toCredentialsProvider(undefined, { AWS_ACCESS_KEY_ID: "E", AWS_SECRET_ACCESS_KEY: "s" })(),
    ).resolves.toEqual({ accessKeyId: "E", secretAccessKey: "s" });
  });
});
