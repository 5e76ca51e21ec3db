import { randomBytes } from "node:crypto";
import type { GetSecretValueInput, PutSecretValueInput } from "@veil/aws";
import { describe, expect, it } from "vitest";
import { HttpError } from "../shared/errors.ts";
import {
  createRequestHasher,
  firstVersionToken,
  loadRequestHashKey,
  type RequestHashSecrets,
} from "./request-hash.ts";

const awsError = (name: string, statusCode = 400) => Object.assign(new Error(name), { name, statusCode });

/** Secrets Manager's version rules for one secret: the request token is the version id. */
function fakeSecret(initial?: string) {
  const versions: { id: string; value: string }[] = initial ? [{ id: "v0", value: initial }] : [];
  const calls = { get: 0, put: 0 };
  const secrets: RequestHashSecrets = {
    async getSecretValue(_: GetSecretValueInput) {
      calls.get += 1;
      await new Promise((r) => setImmediate(r));
      const current = versions.at(-1);
      if (!current) throw awsError("ResourceNotFoundException");
      return { SecretString: current.value, VersionId: current.id };
    },
    async putSecretValue(input: PutSecretValueInput) {
      calls.put += 1;
      await new Promise((r) => setImmediate(r));
      const same = versions.find((v) => v.id === input.ClientRequestToken);
      if (same && same.value !== input.SecretString) throw awsError("ResourceExistsException");
      if (!same) versions.push({ id: input.ClientRequestToken ?? "", value: input.SecretString ?? "" });
      return {};
    },
  };
  return { secrets, versions, calls };
}

describe("loadRequestHashKey", () => {
  it("reads the stored key and writes nothing", async () => {
    const key = randomBytes(32);
    const s = fakeSecret(key.toString("base64"));
    expect((await loadRequestHashKey(s.secrets, "arn")).equals(key)).toBe(true);
    expect(s.calls.put).toBe(0);
  });

  it("generates a random 32-byte key on first use, as the one first version", async () => {
    const s = fakeSecret();
    const key = await loadRequestHashKey(s.secrets, "arn");
    expect(key).toHaveLength(32);
    expect(s.versions).toEqual([{ id: firstVersionToken, value: key.toString("base64") }]);
    expect((await loadRequestHashKey(s.secrets, "arn")).equals(key)).toBe(true);
  });

  it("instances starting together agree on one key", async () => {
    const s = fakeSecret();
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadRequestHashKey(s.secrets, "arn")));
    expect(new Set(keys.map((k) => k.toString("hex"))).size).toBe(1);
    expect(s.versions).toHaveLength(1);
  });

  it("refuses a malformed secret and passes other errors through", async () => {
    await expect(loadRequestHashKey(fakeSecret("c2hvcnQ=").secrets, "arn")).rejects.toThrow(/32 bytes/);
    const denied: RequestHashSecrets = {
      getSecretValue: () => Promise.reject(awsError("AccessDeniedException")),
      putSecretValue: () => Promise.reject(new Error("not reached")),
    };
    await expect(loadRequestHashKey(denied, "arn")).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("createRequestHasher", () => {
  it("loads the key once for concurrent and later requests, and hashes deterministically", async () => {
    let loads = 0;
    const key = randomBytes(32);
    const hash = createRequestHasher(async () => {
      loads += 1;
      await new Promise((r) => setTimeout(r, 10));
      return key;
    });
    hash.warm();
    const many = await Promise.all(Array.from({ length: 10 }, () => hash(["a", "1", "b", "2"])));
    expect(new Set(many).size).toBe(1);
    expect(await hash(["a", "1", "b", "2"])).toBe(many[0]);
    expect(await hash(["a", "1b", "2"])).not.toBe(many[0]); // length-prefixed: no ambiguous joins
    expect(loads).toBe(1);
  });

  it("does not cache a failed load; a transient failure is a 503, a configuration error is not", async () => {
    let attempt = 0;
    const hash = createRequestHasher(async () => {
      attempt += 1;
      if (attempt === 1) throw awsError("ThrottlingException");
      if (attempt === 2) throw awsError("AccessDeniedException");
      return randomBytes(32);
    });
    const first = await hash(["x"]).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(HttpError);
    expect(first).toMatchObject({ status: 503, retryAfterSeconds: 2 });
    await expect(hash(["x"])).rejects.toMatchObject({ name: "AccessDeniedException" });
    await expect(hash(["x"])).resolves.toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(attempt).toBe(3);
  });

  it("a failed warm-up costs nothing: the first request loads again", async () => {
    let attempt = 0;
    const hash = createRequestHasher(async () => {
      attempt += 1;
      if (attempt === 1) throw awsError("NetworkError");
      return randomBytes(32);
    });
    hash.warm();
    await new Promise((r) => setTimeout(r, 5));
    await expect(hash(["x"])).resolves.toBeTypeOf("string");
    expect(attempt).toBe(2);
  });
});
