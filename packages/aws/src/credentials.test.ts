/** The credentials chain: environment, container endpoint (caching, refresh, token), and failing closed. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  containerCredentials,
  containerCredentialsUrl,
  defaultCredentials,
  environmentCredentials,
  staticCredentials,
} from "./credentials.ts";
import { AwsCredentialsError } from "./errors.ts";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const hour = 3_600_000;
const now = Date.parse("2026-05-01T10:00:00Z");

/** A container credentials endpoint; `answer(n, req)` gives status and body of request n. */
async function endpoint(answer: (n: number, req: IncomingMessage) => [number, unknown]) {
  const requests: IncomingMessage[] = [];
  server = createServer((req, res) => {
    requests.push(req);
    const [status, body] = answer(requests.length, req);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2021-04-23/credentials`;
  return { url, requests };
}

const creds = (n: number, expiresAt: number) => ({
  AccessKeyId: `ASIA${n}`,
  SecretAccessKey: `secret-${n}`,
  Token: `token-${n}`,
  Expiration: new Date(expiresAt).toISOString(),
});

describe("environment credentials", () => {
  it("reads the three Lambda variables, and fails closed without them", async () => {
    const env = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "t" };
    expect(await environmentCredentials(env)()).toEqual({
      accessKeyId: "AKID",
      secretAccessKey: "s",
      sessionToken: "t",
    });
    await expect(environmentCredentials({ AWS_ACCESS_KEY_ID: "AKID" })()).rejects.toBeInstanceOf(
      AwsCredentialsError,
    );
  });

  it("static credentials must not be empty", async () => {
    await expect(staticCredentials({ accessKeyId: "", secretAccessKey: "" })()).rejects.toBeInstanceOf(
      AwsCredentialsError,
    );
  });
});

describe("container credentials", () => {
  it("fetches with the authorization token, caches until 5 minutes before expiry, then refreshes", async () => {
    const { url, requests } = await endpoint((n) => [200, creds(n, now + hour)]);
    let clock = now;
    const provider = containerCredentials({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: "Bearer abc" },
      now: () => clock,
    });
    const first = await provider();
    expect(first).toMatchObject({
      accessKeyId: "ASIA1",
      secretAccessKey: "secret-1",
      sessionToken: "token-1",
    });
    expect(first.expiration?.getTime()).toBe(now + hour);
    expect(requests[0]!.headers.authorization).toBe("Bearer abc");
    clock = now + hour - 5 * 60_000 - 1;
    expect((await provider()).accessKeyId).toBe("ASIA1");
    expect(requests).toHaveLength(1);
    clock = now + hour - 5 * 60_000 + 1;
    expect((await provider()).accessKeyId).toBe("ASIA2");
    expect(requests).toHaveLength(2);
  });

  it("refreshes earlier when the caller needs the credentials to last longer (RDS tokens)", async () => {
    const { url, requests } = await endpoint((n) => [200, creds(n, now + 10 * 60_000)]);
    const provider = containerCredentials({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url },
      now: () => now,
    });
    await provider();
    expect((await provider()).accessKeyId).toBe("ASIA1");
    expect((await provider({ minValidityMs: 15 * 60_000 })).accessKeyId).toBe("ASIA2");
    expect(requests).toHaveLength(2);
  });

  it("shares one fetch between concurrent callers", async () => {
    const { url, requests } = await endpoint((n) => [200, creds(n, now + hour)]);
    const provider = containerCredentials({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url },
      now: () => now,
    });
    const all = await Promise.all(Array.from({ length: 20 }, () => provider()));
    expect(new Set(all.map((c) => c.accessKeyId))).toEqual(new Set(["ASIA1"]));
    expect(requests).toHaveLength(1);
  });

  it("reads the token file at each fetch", async () => {
    const dir = await mkdtemp(join(tmpdir(), "veil-aws-token-"));
    try {
      const file = join(dir, "token");
      await writeFile(file, "token-one\n");
      const { url, requests } = await endpoint((n) => [200, creds(n, now + hour)]);
      let clock = now;
      const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file };
      const provider = containerCredentials({ env, now: () => clock });
      await provider();
      await writeFile(file, "token-two");
      clock = now + hour;
      await provider();
      expect(requests.map((r) => r.headers.authorization)).toEqual(["token-one", "token-two"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("retries a failing endpoint, then fails closed with a typed error", async () => {
    const { url, requests } = await endpoint((n) => (n < 3 ? [500, "oops"] : [200, creds(n, now + hour)]));
    const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: url };
    const ok = containerCredentials({ env, now: () => now, retryDelayMs: 1 });
    expect((await ok()).accessKeyId).toBe("ASIA3");
    expect(requests).toHaveLength(3);
    const failing = containerCredentials({ env, now: () => now, retryDelayMs: 1, maxAttempts: 2 });
    server!.removeAllListeners("request");
    server!.on("request", (_req, res) => res.writeHead(403).end('{"Code":"denied","Message":"secret-x"}'));
    const err = await failing().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCredentialsError);
    expect((err as Error).message).not.toContain("secret-x");
  });

  it("keeps still-valid credentials when a refresh fails, and fails once they expired", async () => {
    let up = true;
    const { url } = await endpoint((n) => (up ? [200, creds(n, now + hour)] : [500, ""]));
    let clock = now;
    const provider = containerCredentials({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url },
      now: () => clock,
      retryDelayMs: 1,
      maxAttempts: 1,
    });
    await provider();
    up = false;
    clock = now + hour - 60_000;
    expect((await provider()).accessKeyId).toBe("ASIA1");
    clock = now + hour + 1;
    await expect(provider()).rejects.toBeInstanceOf(AwsCredentialsError);
  });

  it("refuses an answer without all four fields", async () => {
    for (const body of [
      { ...creds(1, now + hour), Token: undefined },
      { ...creds(1, now), Expiration: "soon" },
      "nope",
    ]) {
      const { url } = await endpoint(() => [200, body]);
      const provider = containerCredentials({
        env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url },
        maxAttempts: 1,
      });
      await expect(provider()).rejects.toBeInstanceOf(AwsCredentialsError);
      server!.closeAllConnections();
      await new Promise((r) => server!.close(r));
      server = undefined;
    }
  });

  it("accepts HTTPS, loopback and the container hosts only", () => {
    const url = (env: Record<string, string>) => containerCredentialsUrl(env)?.href;
    expect(url({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/abc" })).toBe(
      "http://169.254.170.2/v2/credentials/abc",
    );
    expect(url({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:9001/2021-04-23/credentials" })).toBe(
      "http://127.0.0.1:9001/2021-04-23/credentials",
    );
    expect(url({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials" })).toBeDefined();
    expect(url({ AWS_CONTAINER_CREDENTIALS_FULL_URI: "https://creds.example.com/x" })).toBeDefined();
    for (const bad of ["http://example.com/creds", "http://127.0.0.256/", "http://10.0.0.1/", "not a url"]) {
      expect(() => url({ AWS_CONTAINER_CREDENTIALS_FULL_URI: bad }), bad).toThrow(AwsCredentialsError);
    }
    expect(url({})).toBeUndefined();
  });

  it("refuses a token with a line break", async () => {
    const { url, requests } = await endpoint(() => [200, creds(1, now + hour)]);
    const provider = containerCredentials({
      env: {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: "a\r\nX-Injected: 1",
      },
      maxAttempts: 1,
    });
    await expect(provider()).rejects.toBeInstanceOf(AwsCredentialsError);
    expect(requests).toHaveLength(0);
  });
});

describe("defaultCredentials", () => {
  it("prefers the environment, then the container endpoint, else fails closed", async () => {
    const { url, requests } = await endpoint((n) => [200, creds(n, Date.now() + hour)]);
    const env: Record<string, string | undefined> = {
      AWS_ACCESS_KEY_ID: "AKIDENV",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_CONTAINER_CREDENTIALS_FULL_URI: url,
    };
    const provider = defaultCredentials({ env });
    expect((await provider()).accessKeyId).toBe("AKIDENV");
    expect(requests).toHaveLength(0);
    env.AWS_ACCESS_KEY_ID = undefined;
    expect((await provider()).accessKeyId).toBe("ASIA1");
    await expect(defaultCredentials({ env: {} })()).rejects.toBeInstanceOf(AwsCredentialsError);
  });
});
