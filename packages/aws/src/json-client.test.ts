// Over 300 lines: one scripted server shared by every retry and error case.
/**
 * The JSON 1.1 client against a tiny scripted server: retries (throttling, 5xx, timeouts, dropped
 * connections), no retry of client errors, the SDK's error-code rules, endpoints, and no secret in any
 * error message.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AwsConfigError, AwsCredentialsError, AwsNetworkError, AwsServiceError } from "./errors.ts";
import {
  type AwsClientOptions,
  createJsonClient,
  defaultEndpoint,
  errorCode,
  resolveEndpoint,
} from "./json-client.ts";
import { kmsService } from "./kms.ts";
import { secretsManagerService } from "./secrets-manager.ts";

type Reply = (req: IncomingMessage, body: string, res: ServerResponse) => void;
interface Seen {
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** Answers request n with replies[n] (the last one repeats); records what came in. */
async function scripted(replies: Reply[]): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ headers: req.headers, body });
      (replies[seen.length - 1] ?? replies.at(-1)!)(req, body, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (_req, _body, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...headers });
    res.end(text);
  };
const error = (status: number, type: string, message = "boom") =>
  json(status, { __type: type, message }, { "x-amzn-RequestId": "req-1234" });
const hang: Reply = () => {};
const drop: Reply = (req) => req.socket.destroy();

// Canaries: none of these may ever appear in an error message.
const canary = {
  accessKeyId: "AKIACANARY0000000001",
  secretAccessKey: "secret-CANARY-7f3a9c",
  sessionToken: "token-CANARY-0b1d2e",
};
const plaintextCanary = "plaintext-CANARY-4e5f6a";

function client(endpoint: string, over: Partial<AwsClientOptions> = {}) {
  return createJsonClient(kmsService, {
    endpoint,
    region: "eu-central-2",
    credentials: canary,
    baseDelayMs: 1,
    throttlingBaseDelayMs: 1,
    attemptTimeoutMs: 2000,
    env: {},
    ...over,
  });
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error("expected a failure");
  const text = `${err.message} ${err.stack ?? ""} ${JSON.stringify(err)}`;
  for (const secret of [...Object.values(canary), plaintextCanary]) expect(text).not.toContain(secret);
  return err;
}

describe("createJsonClient", () => {
  it("posts a signed JSON 1.1 request and returns the parsed answer", async () => {
    const { endpoint, seen } = await scripted([json(200, { KeyId: "k", Plaintext: "AAAA" })]);
    const out = await client(endpoint).call("Decrypt", { CiphertextBlob: "AQID" });
    expect(out).toEqual({ KeyId: "k", Plaintext: "AAAA" });
    const h = seen[0]!.headers;
    expect(h["x-amz-target"]).toBe("TrentService.Decrypt");
    expect(h["content-type"]).toBe("application/x-amz-json-1.1");
    expect(h["x-amz-security-token"]).toBe(canary.sessionToken);
    expect(h.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIACANARY0000000001\/\d{8}\/eu-central-2\/kms\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(seen[0]!.body)).toEqual({ CiphertextBlob: "AQID" });
  });

  it("retries throttling and 500s, then succeeds", async () => {
    const { endpoint, seen } = await scripted([
      error(400, "ThrottlingException"),
      error(500, "KMSInternalException"),
      json(200, { ok: 1 }),
    ]);
    expect(await client(endpoint).call("Encrypt", {})).toEqual({ ok: 1 });
    expect(seen).toHaveLength(3);
  });

  it("retries 429, 502, 503, 504 and RequestTimeoutException; gives up after maxAttempts", async () => {
    for (const reply of [
      json(429, {}),
      error(502, "BadGateway"),
      error(503, "ServiceUnavailable"),
      error(504, "GatewayTimeout"),
      error(400, "RequestTimeoutException"),
    ]) {
      const { endpoint, seen } = await scripted([reply]);
      const err = await failure(client(endpoint, { maxAttempts: 4 }).call("Encrypt", {}));
      expect(err).toBeInstanceOf(AwsServiceError);
      expect((err as AwsServiceError).attempts).toBe(4);
      expect(seen).toHaveLength(4);
      server?.closeAllConnections();
      await new Promise((r) => server!.close(r));
      server = undefined;
    }
  });

  it("never retries a client error, and names it by the AWS code", async () => {
    const { endpoint, seen } = await scripted([
      json(
        400,
        { __type: "com.amazon.coral.validate#ValidationException", message: plaintextCanary },
        {
          "x-amzn-RequestId": "6a1f0c2e-0000-4000-8000-000000000001",
        },
      ),
    ]);
    const err = (await failure(
      client(endpoint).call("Encrypt", { Plaintext: plaintextCanary }),
    )) as AwsServiceError;
    expect(err).toBeInstanceOf(AwsServiceError);
    expect(err.name).toBe("ValidationException");
    expect(err.statusCode).toBe(400);
    expect(err.requestId).toBe("6a1f0c2e-0000-4000-8000-000000000001");
    expect(err.service).toBe("kms");
    expect(err.operation).toBe("Encrypt");
    expect(seen).toHaveLength(1);
  });

  it("does not retry 501 or other 4xx", async () => {
    for (const reply of [error(501, "NotImplemented"), error(403, "AccessDeniedException"), json(404, {})]) {
      const { endpoint, seen } = await scripted([reply]);
      await failure(client(endpoint).call("Encrypt", {}));
      expect(seen).toHaveLength(1);
      server?.closeAllConnections();
      await new Promise((r) => server!.close(r));
      server = undefined;
    }
  });

  it("times out a hanging attempt, retries it, and fails as TimeoutError", async () => {
    const { endpoint, seen } = await scripted([hang]);
    const err = await failure(client(endpoint, { attemptTimeoutMs: 50 }).call("Decrypt", {}));
    expect(err).toBeInstanceOf(AwsNetworkError);
    expect(err.name).toBe("TimeoutError");
    expect(seen).toHaveLength(3);
  });

  it("recovers from a timed-out attempt", async () => {
    const { endpoint, seen } = await scripted([hang, json(200, { ok: 2 })]);
    expect(await client(endpoint, { attemptTimeoutMs: 100 }).call("Decrypt", {})).toEqual({ ok: 2 });
    expect(seen).toHaveLength(2);
  });

  it("retries a dropped connection, and reports a refused one as NetworkError", async () => {
    const { endpoint, seen } = await scripted([drop, json(200, { ok: 3 })]);
    expect(await client(endpoint).call("Decrypt", {})).toEqual({ ok: 3 });
    expect(seen).toHaveLength(2);
    server?.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
    const err = (await failure(client(endpoint).call("Decrypt", {}))) as AwsNetworkError;
    expect(err.name).toBe("NetworkError");
    expect(err.code).toBe("ECONNREFUSED");
    expect(err.attempts).toBe(3);
  });

  it("retries an answer cut off before its end", async () => {
    const cut: Reply = (_q, _b, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write('{"Plaintext":"');
      setTimeout(() => res.socket?.destroy(), 10);
    };
    const { endpoint, seen } = await scripted([cut, cut, json(200, { ok: 4 })]);
    const err = (await failure(client(endpoint, { maxAttempts: 1 }).call("Decrypt", {}))) as AwsNetworkError;
    expect([err.name, err.code]).toEqual(["NetworkError", "ECONNRESET"]);
    expect(await client(endpoint).call("Decrypt", {})).toEqual({ ok: 4 });
    expect(seen).toHaveLength(3);
  });

  it("reuses one connection for consecutive calls", async () => {
    const { endpoint } = await scripted([json(200, { ok: 5 })]);
    let connections = 0;
    server!.on("connection", () => connections++);
    const c = client(endpoint);
    for (let i = 0; i < 3; i++) await c.call("Decrypt", {});
    expect(connections).toBe(1);
  });

  it("stops retrying when the retry quota is spent", async () => {
    const { endpoint, seen } = await scripted([error(500, "InternalFailure")]);
    const c = client(endpoint, { maxAttempts: 3 });
    // 500 tokens, 14 per retry, two retries per call: the quota lasts 17 calls (35 retries).
    for (let i = 0; i < 19; i++) await failure(c.call("Encrypt", {}));
    expect(seen.length).toBeLessThan(19 * 3);
    expect(seen.length).toBe(19 + 35);
  });

  it("answers without a body or with a non-JSON body", async () => {
    const { endpoint } = await scripted([
      (_q, _b, res) => res.writeHead(200).end(),
      (_q, _b, res) => res.writeHead(200).end(`not json ${plaintextCanary}`),
      (_q, _b, res) => res.writeHead(500).end(`<html>${plaintextCanary}</html>`),
    ]);
    const c = client(endpoint, { maxAttempts: 1 });
    expect(await c.call("X", {})).toEqual({});
    expect((await failure(c.call("X", {}))).name).toBe("InvalidResponse");
    const err = (await failure(c.call("X", {}))) as AwsServiceError;
    expect([err.name, err.statusCode]).toEqual(["UnknownError", 500]);
  });

  it("never sends a request without credentials", async () => {
    const { endpoint, seen } = await scripted([json(200, {})]);
    const err = await failure(client(endpoint, { credentials: undefined }).call("Decrypt", {}));
    expect(err).toBeInstanceOf(AwsCredentialsError);
    const err2 = await failure(
      client(endpoint, { credentials: { accessKeyId: "AKID", secretAccessKey: "" } }).call("Decrypt", {}),
    );
    expect(err2).toBeInstanceOf(AwsCredentialsError);
    const err3 = await failure(
      client(endpoint, {
        credentials: async () => {
          throw new Error(`provider leaked ${canary.secretAccessKey}`);
        },
      }).call("Decrypt", {}),
    );
    expect(err3).toBeInstanceOf(AwsCredentialsError);
    expect(seen).toHaveLength(0);
  });

  it("needs a region", async () => {
    const c = createJsonClient(kmsService, { credentials: canary, env: {} });
    await expect(c.call("Decrypt", {})).rejects.toBeInstanceOf(AwsConfigError);
  });
});

describe("errorCode (the SDK's rules for JSON 1.1)", () => {
  it("reads __type, then code, then x-amzn-ErrorType, and strips namespace and suffix", () => {
    expect(errorCode({}, { __type: "com.amazonaws.kms#InvalidCiphertextException" })).toBe(
      "InvalidCiphertextException",
    );
    expect(errorCode({}, { code: "ThrottlingException" })).toBe("ThrottlingException");
    expect(errorCode({}, { Code: "Throttling" })).toBe("Throttling");
    expect(
      errorCode({ "x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/coral/" }, {}),
    ).toBe("AccessDeniedException");
    expect(errorCode({ "x-amzn-errortype": "A" }, { __type: "B" })).toBe("B");
    expect(errorCode({}, { __type: "X,Y" })).toBe("X");
    expect(errorCode({}, undefined)).toBeUndefined();
    expect(errorCode({}, { __type: "bad code with spaces" })).toBeUndefined();
  });
});

describe("endpoints", () => {
  it("defaults to the AWS endpoint, .com.cn in China", () => {
    expect(defaultEndpoint("kms", "eu-central-2")).toBe("https://kms.eu-central-2.amazonaws.com");
    expect(defaultEndpoint("kms", "cn-north-1")).toBe("https://kms.cn-north-1.amazonaws.com.cn");
  });

  it("takes the option, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL", () => {
    const env = {
      AWS_ENDPOINT_URL_KMS: "http://127.0.0.1:1",
      AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://127.0.0.1:2",
      AWS_ENDPOINT_URL: "http://127.0.0.1:3",
    };
    const href = (s: typeof kmsService | typeof secretsManagerService, o: Partial<AwsClientOptions>) =>
      resolveEndpoint(s, "eu-central-2", o).href;
    expect(href(kmsService, { env, endpoint: "http://127.0.0.1:9" })).toBe("http://127.0.0.1:9/");
    expect(href(kmsService, { env })).toBe("http://127.0.0.1:1/");
    expect(href(secretsManagerService, { env })).toBe("http://127.0.0.1:2/");
    expect(href(kmsService, { env: { AWS_ENDPOINT_URL: "http://127.0.0.1:3" } })).toBe("http://127.0.0.1:3/");
    expect(href(kmsService, { env: { ...env, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true" } })).toBe(
      "https://kms.eu-central-2.amazonaws.com/",
    );
    expect(() => resolveEndpoint(kmsService, "eu-central-2", { endpoint: "ftp://x" })).toThrow(
      AwsConfigError,
    );
  });

  it("sends plain http only to loopback: answers carry plaintext data keys", () => {
    const at = (endpoint: string) => () => resolveEndpoint(kmsService, "eu-central-2", { endpoint });
    for (const ok of [
      "http://127.0.0.1:4599",
      "http://localhost:1",
      "http://[::1]:2",
      "https://kms.internal",
    ])
      expect(at(ok)).not.toThrow();
    for (const bad of ["http://kms.internal", "http://10.0.0.5", "http://127.0.0.1.nip.io", "http://[::2]"])
      expect(at(bad), bad).toThrow(AwsConfigError);
  });
});

describe("answers", () => {
  it("refuses an answer larger than maxResponseBytes, declared or streamed", async () => {
    const big = "x".repeat(2048);
    const { endpoint } = await scripted([
      (_q, _b, res) => res.writeHead(200, { "content-length": String(big.length + 2) }).end(`"${big}"`),
      (_q, _b, res) => {
        res.writeHead(200);
        res.write(`{"a":"${big}`);
        res.end(`${big}"}`);
      },
    ]);
    const c = client(endpoint, { maxAttempts: 1, maxResponseBytes: 1024 });
    for (let i = 0; i < 2; i++) {
      const err = (await failure(c.call("X", {}))) as AwsNetworkError;
      expect([err.name, err.code]).toEqual(["NetworkError", "EMSGSIZE"]);
    }
  });
});
