// Over 300 lines: one gateway setup shared by a test per check, in request order.
import { request as httpRequest } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeSha256 } from "../sigv4/node-sha256.ts";
import { startGateway } from "./server.ts";
import type { GatewayOptions, GatewayRoute, LocalGateway } from "./types.ts";

const t0 = Date.parse("2026-05-06T07:08:09Z");
let clock = t0;
const edge = { accessKeyId: "ASIAEDGE", secretAccessKey: "edge-secret", sessionToken: "edge-token" };
const other = { accessKeyId: "ASIAOTHER", secretAccessKey: "other-secret" };
const edgeArn = "arn:aws:sts::123456789012:assumed-role/EdgeSigner/us-east-1.veil-edge";
const otherArn = "arn:aws:iam::123456789012:user/someone";

interface Call {
  event: APIGatewayProxyEvent;
  context: Context;
}
let calls: Call[] = [];
let gateway: LocalGateway;
let reply: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

async function start(over: Partial<GatewayOptions> = {}) {
  const handler: GatewayRoute["handler"] = async (event, context) => {
    calls.push({ event, context });
    return reply(event);
  };
  gateway = await startGateway({
    stage: "prod",
    region: "eu-west-1",
    apiKeys: { keys: ["key-1", { id: "k2", value: "key-2" }], throttle: { rateLimit: 1, burstLimit: 3 } },
    principals: (id) =>
      id === edge.accessKeyId
        ? { secret: edge.secretAccessKey, arn: edgeArn }
        : id === other.accessKeyId
          ? { secret: other.secretAccessKey, arn: otherArn }
          : undefined,
    allowedPrincipalArns: ["arn:aws:sts::123456789012:assumed-role/EdgeSigner/*"],
    routes: [
      { method: "POST", resource: "/api/records", handler },
      { method: "GET", resource: "/api/records/{id}", handler },
      { method: "ANY", resource: "/api/files/{proxy+}", handler },
    ],
    accountId: "123456789012",
    apiId: "a1b2c3d4e5",
    now: () => clock,
    ...over,
  });
}

beforeEach(async () => {
  clock = t0;
  calls = [];
  reply = async () => ({ statusCode: 200, body: '{"ok":true}' });
  await start();
});
afterEach(async () => {
  await gateway.stop();
});

interface Req {
  method?: string;
  path?: string; // after the stage, still encoded, with query
  headers?: Record<string, string>;
  body?: string | Buffer;
}
interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

function send(req: Req): Promise<Res> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method ?? "GET",
        path: `/prod${req.path ?? "/api/records/1"}`,
        headers: req.headers,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
        });
      },
    );
    r.on("error", reject);
    r.end(req.body);
  });
}

/** Signs `req` for the gateway as the SDK would, at `at` (default: the gateway clock). */
async function signed(
  req: Req,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = edge,
  at = clock,
): Promise<Req> {
  const host = new URL(gateway.url).host;
  const full = `/prod${req.path ?? "/api/records/1"}`;
  const [path, qs] = full.split("?") as [string, string | undefined];
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(qs ?? "")) query[k] = [...(query[k] ?? []), v];
  const signer = new SignatureV4({
    service: "execute-api",
    region: "eu-west-1",
    credentials: creds,
    sha256: NodeSha256,
  });
  const out = await signer.sign(
    {
      method: req.method ?? "GET",
      protocol: "http:",
      hostname: host,
      path,
      query,
      headers: { host, ...req.headers },
      body: req.body,
    },
    { signingDate: new Date(at) },
  );
  return {
    ...req,
    headers: {
      ...(out.headers as Record<string, string>),
      "x-api-key": req.headers?.["x-api-key"] ?? "key-1",
    },
  };
}

const signatureMessage =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

describe("local API Gateway: checks in order, with API Gateway's answers", () => {
  it("answers a signed request with a key, and tags it with x-amzn-RequestId", async () => {
    const res = await send(await signed({}));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(res.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls).toHaveLength(1);
  });

  it("no API key → 403 Forbidden, before anything else", async () => {
    const req = await signed({});
    delete req.headers!["x-api-key"];
    const res = await send(req);
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ message: "Forbidden" });
    expect(res.headers["x-amzn-errortype"]).toBe("ForbiddenException");
    expect((await send({ headers: { "x-api-key": "nope" } })).json()).toEqual({ message: "Forbidden" });
    expect(calls).toHaveLength(0);
  });

  it("a valid key but no signature → 403 Missing Authentication Token", async () => {
    const res = await send({ headers: { "x-api-key": "key-1" } });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ message: "Missing Authentication Token" });
    expect(calls).toHaveLength(0);
  });

  it("signed with a wrong secret → 403 signature mismatch", async () => {
    const res = await send(await signed({}, { ...edge, secretAccessKey: "wrong" }));
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ message: signatureMessage });
    expect(calls).toHaveLength(0);
  });

  it("body changed after signing → 403 signature mismatch (the gateway hashes the bytes it got)", async () => {
    const req = await signed({
      method: "POST",
      path: "/api/records",
      body: '{"amount":10}',
      headers: { "content-type": "application/json" },
    });
    expect((await send(req)).status).toBe(200);
    const res = await send({ ...req, body: '{"amount":99}' });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ message: signatureMessage });
    expect(calls).toHaveLength(1);
  });

  it("signed 6 minutes ago → 403 Signature expired; 6 minutes ahead → not yet current", async () => {
    const old = await send(await signed({}, edge, t0 - 6 * 60_000));
    expect(old.status).toBe(403);
    expect(old.json()).toEqual({
      message:
        "Signature expired: 20260506T070209Z is now earlier than 20260506T070309Z (20260506T070809Z - 5 min.)",
    });
    const ahead = await send(await signed({}, edge, t0 + 6 * 60_000));
    expect(ahead.json()).toEqual({
      message:
        "Signature not yet current: 20260506T071409Z is still later than 20260506T071309Z (20260506T070809Z + 5 min.)",
    });
    expect((await send(await signed({}, edge, t0 - 4 * 60_000))).status).toBe(200);
  });

  it("an unknown access key → 403 invalid security token", async () => {
    const res = await send(await signed({}, { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" }));
    expect(res.json()).toEqual({ message: "The security token included in the request is invalid." });
  });

  it("a correctly signing principal that is not allowed → 403 not authorized to execute-api:Invoke", async () => {
    const res = await send(await signed({ path: "/api/records/42" }, other));
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({
      Message: `User: ${otherArn} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/api/records/42`,
    });
    expect(calls).toHaveLength(0);
  });

  it("throttles per key with a token bucket → 429 Too Many Requests", async () => {
    for (let i = 0; i < 3; i++) expect((await send(await signed({}))).status).toBe(200);
    const res = await send(await signed({}));
    expect(res.status).toBe(429);
    expect(res.json()).toEqual({ message: "Too Many Requests" });
    expect((await send(await signed({ headers: { "x-api-key": "key-2" } }))).status).toBe(200); // its own bucket
    clock += 1000; // one token back at 1 request/s
    expect((await send(await signed({}))).status).toBe(200);
    expect((await send(await signed({}))).status).toBe(429);
  });

  it("throttles before checking the signature (an unsigned flood still spends the key's tokens)", async () => {
    for (let i = 0; i < 3; i++) await send({ headers: { "x-api-key": "key-1" } });
    expect((await send({ headers: { "x-api-key": "key-1" } })).status).toBe(429);
  });

  it("rotates keys at run time", async () => {
    gateway.setApiKeys(["key-3"]);
    expect((await send(await signed({}))).json()).toEqual({ message: "Forbidden" });
    expect((await send(await signed({ headers: { "x-api-key": "key-3" } }))).status).toBe(200);
  });

  it("unknown paths, methods and stages → 403 Missing Authentication Token (API Gateway's answer)", async () => {
    expect((await send(await signed({ path: "/api/nothing" }))).json()).toEqual({
      message: "Missing Authentication Token",
    });
    expect((await send(await signed({ method: "DELETE", path: "/api/records/1" }))).status).toBe(403);
    const url = new URL(gateway.url);
    const wrongStage = await new Promise<number>((resolve) => {
      httpRequest({ host: url.hostname, port: url.port, path: "/dev/api/records/1" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(wrongStage).toBe(403);
  });

  it("requires the identity header, session token and content type to be signed when present", async () => {
    const req = await signed({});
    const res = await send({ ...req, headers: { ...req.headers, "x-veil-identity": "Bearer forged" } });
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ message: "Authorization header is malformed or incomplete." });
  });

  it("handler throws → 502 Internal server error, nothing leaked", async () => {
    reply = async () => {
      throw new Error("secret detail at /srv/app.ts:42");
    };
    const res = await send(await signed({}));
    expect(res.status).toBe(502);
    expect(res.json()).toEqual({ message: "Internal server error" });
    expect(res.text).not.toContain("secret");
  });

  it("malformed handler result → 502", async () => {
    reply = async () => ({ body: "no status" }) as unknown as APIGatewayProxyResult;
    expect((await send(await signed({}))).status).toBe(502);
  });

  it("handler past the time limit → 504", async () => {
    await gateway.stop();
    await start({ timeoutMs: 50 });
    let release: () => void = () => undefined;
    reply = () =>
      new Promise((resolve) => {
        release = () => resolve({ statusCode: 200, body: "" });
      });
    const res = await send(await signed({}));
    release();
    expect(res.status).toBe(504);
    expect(res.json()).toEqual({ message: "Endpoint request timed out" });
  });

  it("refuses bodies over the limit with 413", async () => {
    await gateway.stop();
    await start({ maxBodyBytes: 16 });
    const res = await send({
      method: "POST",
      path: "/api/records",
      body: "x".repeat(64),
      headers: { "x-api-key": "key-1" },
    });
    expect(res.status).toBe(413);
  });
});

describe("local API Gateway: proxy event and result", () => {
  it("builds a REST proxy event", async () => {
    await send(
      await signed({
        method: "POST",
        path: "/api/records?tag=a&tag=b&q=john%20smith",
        body: "fullName=A%2BB",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-veil-identity": "Bearer t.o.k",
          "User-Agent": "test-agent",
        },
      }),
    );
    const { event, context } = calls[0]!;
    expect(event).toMatchObject({
      resource: "/api/records",
      path: "/api/records",
      httpMethod: "POST",
      queryStringParameters: { tag: "b", q: "john smith" },
      multiValueQueryStringParameters: { tag: ["a", "b"], q: ["john smith"] },
      pathParameters: null,
      stageVariables: null,
      body: "fullName=A%2BB",
      isBase64Encoded: false,
    });
    expect(event.headers["x-veil-identity"]).toBe("Bearer t.o.k");
    expect(event.multiValueHeaders["x-api-key"]).toEqual(["key-1"]);
    expect(event.requestContext).toMatchObject({
      accountId: "123456789012",
      apiId: "a1b2c3d4e5",
      stage: "prod",
      resourcePath: "/api/records",
      httpMethod: "POST",
      path: "/prod/api/records",
      requestTimeEpoch: t0,
      requestTime: "06/May/2026:07:08:09 +0000",
      identity: {
        accessKey: edge.accessKeyId,
        accountId: "123456789012",
        caller: "EdgeSigner:us-east-1.veil-edge",
        user: "EdgeSigner:us-east-1.veil-edge",
        userArn: edgeArn,
        apiKey: "key-1",
        userAgent: "test-agent",
        sourceIp: "127.0.0.1",
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.identity.apiKeyId).toMatch(/^[0-9a-f]{10}$/);
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBe(29_000);
  });

  it("decodes path parameters, matches greedy resources, base64-encodes binary bodies", async () => {
    await send(await signed({ path: "/api/records/a%20b" }));
    expect(calls[0]!.event.pathParameters).toEqual({ id: "a b" });
    expect(calls[0]!.event.resource).toBe("/api/records/{id}");
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    await send(
      await signed({
        method: "PUT",
        path: "/api/files/x/y.png",
        body: png,
        headers: { "content-type": "image/png" },
      }),
    );
    expect(calls[1]!.event).toMatchObject({
      resource: "/api/files/{proxy+}",
      pathParameters: { proxy: "x/y.png" },
      isBase64Encoded: true,
    });
    expect(Buffer.from(calls[1]!.event.body!, "base64")).toEqual(png);
  });

  it("maps the handler result: status, headers, multi-value headers, base64 body", async () => {
    reply = async () => ({
      statusCode: 201,
      headers: { "Content-Type": "image/png", "X-One": "1" },
      multiValueHeaders: { "Set-Cookie": ["a=1", "b=2"] },
      body: Buffer.from([1, 2, 3]).toString("base64"),
      isBase64Encoded: true,
    });
    const url = new URL(gateway.url);
    const req = await signed({});
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
      (resolve) => {
        httpRequest(
          { host: url.hostname, port: url.port, path: "/prod/api/records/1", headers: req.headers },
          (r) => {
            const chunks: Buffer[] = [];
            r.on("data", (c: Buffer) => chunks.push(c));
            r.on("end", () =>
              resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(chunks) }),
            );
          },
        ).end();
      },
    );
    expect(res.status).toBe(201);
    expect(res.headers["content-type"]).toBe("image/png");
    expect(res.headers["x-one"]).toBe("1");
    expect(res.headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(res.body).toEqual(Buffer.from([1, 2, 3]));
  });
});
