import { PassThrough, Readable } from "node:stream";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterEach, describe, expect, it } from "vitest";
import { NodeSha256 } from "../sigv4/node-sha256.ts";
import { startGateway } from "./server.ts";
import type { LocalGateway, StreamingProxyHandler } from "./types.ts";

const edge = { accessKeyId: "ASIAEDGE", secretAccessKey: "edge-secret" };
const edgeArn = "arn:aws:sts::123456789012:assumed-role/EdgeSigner/x";

let gateway: LocalGateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
});

async function call(streamHandler: StreamingProxyHandler, timeoutMs?: number) {
  gateway = await startGateway({
    stage: "prod",
    region: "eu-west-1",
    apiKeys: { keys: ["key-1"] },
    principals: (id) =>
      id === edge.accessKeyId ? { secret: edge.secretAccessKey, arn: edgeArn } : undefined,
    allowedPrincipalArns: [edgeArn],
    routes: [
      {
        method: "GET",
        resource: "/api/files/{id}",
        handler: () => Promise.reject(new Error("not called in STREAM mode")),
        streamHandler,
      },
    ],
    ...(timeoutMs ? { timeoutMs } : {}),
  });
  const url = new URL(`${gateway.url}/api/files/one`);
  const signer = new SignatureV4({
    service: "execute-api",
    region: "eu-west-1",
    credentials: edge,
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: "GET",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: { host: url.host },
  });
  return fetch(url, { headers: { ...signed.headers, "x-api-key": "key-1" } as Record<string, string> });
}

const prelude = (meta: unknown) => Buffer.concat([Buffer.from(JSON.stringify(meta)), Buffer.alloc(8)]);

describe("STREAM transfer mode", () => {
  it("sends the function's status, headers and body as they come", async () => {
    const body = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await call(async () =>
      Readable.from([
        prelude({ statusCode: 206, headers: { "x-a": "b" }, cookies: ["c=d"] }),
        body.subarray(0, 10),
        body.subarray(10),
      ]),
    );
    expect(res.status).toBe(206);
    expect(res.headers.get("x-a")).toBe("b");
    expect(res.headers.get("set-cookie")).toBe("c=d");
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it("a function that fails before its metadata is a 502; a silent one a 504", async () => {
    const failed = await call(async () => {
      const s = new PassThrough();
      setImmediate(() => s.destroy(new Error("boom")));
      return s;
    });
    expect(failed.status).toBe(502);
    await gateway?.stop();
    gateway = undefined;
    const silent = await call(async () => new PassThrough(), 300);
    expect(silent.status).toBe(504);
  });

  it("a failure after the status line aborts the connection", async () => {
    const res = await call(async () => {
      const s = new PassThrough();
      s.write(prelude({ statusCode: 200, headers: { "content-length": "100000" } }));
      s.write(Buffer.alloc(1000));
      setTimeout(() => s.destroy(new Error("midway")), 50);
      return s;
    });
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
  });
});
