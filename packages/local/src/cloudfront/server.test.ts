import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { proofOfPossession } from "@veil/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCloudFront, startLocalCloudFront } from "./server.ts";

/** What reached the API origin. */
const received: { method: string; contentType?: string; body: string }[] = [];
/** The viewer host header of each request that reached the API origin. */
const viewerHosts: (string | string[] | undefined)[] = [];

let origin: Server;
let cf: LocalCloudFront;

beforeAll(async () => {
  origin = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      viewerHosts.push(req.headers[proofOfPossession.viewerHostHeader]);
      received.push({
        method: req.method ?? "",
        contentType: req.headers["content-type"],
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => origin.listen(0, "127.0.0.1", r));
  const port = (origin.address() as AddressInfo).port;
  cf = await startLocalCloudFront({
    origin: () => ({ domainName: "127.0.0.1", port, protocol: "http", path: "/v1", customHeaders: {} }),
    originRequest: async (event) => event.Records[0]!.cf.request,
    encryptForm: async (body) => body.replace(/fullName=[^&]*/, "fullName=CIPHERTEXT"),
    responseHeaders: {},
  });
});

afterAll(async () => {
  await cf.stop();
  await new Promise((r) => origin.close(r));
});

const post = (contentType: string | undefined, method = "POST") =>
  fetch(`${cf.url}/api/records`, {
    method,
    headers: contentType ? { "content-type": contentType } : {},
    body: "fullName=Jane+Doe&category=general",
  });

describe("local CloudFront: bodies FLE would not encrypt never reach the origin", () => {
  it("encrypts and forwards a POST of exactly application/x-www-form-urlencoded", async () => {
    received.length = 0;
    expect((await post("application/x-www-form-urlencoded")).status).toBe(200);
    expect(received).toEqual([
      {
        method: "POST",
        contentType: "application/x-www-form-urlencoded",
        body: "fullName=CIPHERTEXT&category=general",
      },
    ]);
  });

  it("refuses any other content type with 415 and any PUT or PATCH body with 405, forwarding nothing", async () => {
    received.length = 0;
    for (const type of [
      "application/x-www-form-urlencoded; charset=UTF-8",
      "application/x-www-form-urlencoded;charset=UTF-8",
      "application/json",
      "text/plain",
    ]) {
      const res = await post(type);
      expect(res.status, type).toBe(415);
      expect((await res.json()) as object).toMatchObject({
        error: "UnsupportedMediaType",
        requestId: expect.any(String),
      });
    }
    expect((await post("application/x-www-form-urlencoded", "PUT")).status).toBe(405);
    expect((await post("application/x-www-form-urlencoded", "PATCH")).status).toBe(405);
    expect(received).toEqual([]);
  });

  it("lets requests without a body through", async () => {
    received.length = 0;
    expect((await fetch(`${cf.url}/api/records`)).status).toBe(200);
    expect(received.map((r) => r.method)).toEqual(["GET"]);
  });
});

describe("local CloudFront: the viewer host header", () => {
  it("carries the viewer's Host to the origin on every API request, never a value the viewer sent", async () => {
    viewerHosts.length = 0;
    const host = new URL(cf.url).host;
    const forged = { [proofOfPossession.viewerHostHeader]: "evil.example" };
    expect((await fetch(`${cf.url}/api/records`, { headers: forged })).status).toBe(200);
    expect((await fetch(`${cf.url}/api/records/1`, { method: "DELETE", headers: forged })).status).toBe(200);
    expect(viewerHosts).toEqual([host, host]);
  });
});
