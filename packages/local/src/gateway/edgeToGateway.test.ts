/**
 * The whole signed hop: a CloudFront origin-request event → the real edge signer (@veil/edge) → HTTP as
 * CloudFront forwards it (origin path, origin custom headers, Via/X-Forwarded-For added after the
 * function) → this gateway's SigV4 check → a dummy handler.
 */
import { request as httpRequest } from "node:http";
import { createOriginRequestHandler } from "@veil/edge";
import type { APIGatewayProxyEvent, CloudFrontRequest, CloudFrontResultResponse } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildOriginRequestEvent } from "../cloudfront/origin-event.ts";
import { startGateway } from "./server.ts";
import type { LocalGateway } from "./types.ts";

const clock = Date.parse("2026-07-08T09:10:11Z");
const edgeCreds = {
  accessKeyId: "ASIAEDGE",
  secretAccessKey: "edge-secret",
  sessionToken: "edge/session+token=",
};
const edgeArn = "arn:aws:sts::123456789012:assumed-role/EdgeSigner/us-east-1.veil-edge";
const sign = createOriginRequestHandler({
  region: "eu-west-1",
  credentials: () => edgeCreds,
  now: () => new Date(clock),
});

let gateway: LocalGateway;
let events: APIGatewayProxyEvent[] = [];

beforeAll(async () => {
  const handler = async (event: APIGatewayProxyEvent) => {
    events.push(event);
    return { statusCode: 200, body: JSON.stringify({ seen: event.body }) };
  };
  gateway = await startGateway({
    stage: "prod",
    region: "eu-west-1",
    apiKeys: { keys: ["origin-key"] },
    principals: (id) =>
      id === edgeCreds.accessKeyId ? { secret: edgeCreds.secretAccessKey, arn: edgeArn } : undefined,
    allowedPrincipalArns: ["arn:aws:sts::123456789012:assumed-role/EdgeSigner/*"],
    routes: [
      { method: "POST", resource: "/api/records", handler },
      { method: "GET", resource: "/api/records", handler },
      { method: "DELETE", resource: "/api/records/{id}", handler },
    ],
    now: () => clock,
  });
});
afterAll(async () => {
  await gateway.stop();
});
beforeEach(() => {
  events = [];
});

interface Viewer {
  method: string;
  uri: string;
  querystring?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What CloudFront + the edge function make of a viewer request. */
async function throughEdge(viewer: Viewer): Promise<CloudFrontRequest | CloudFrontResultResponse> {
  const rawHeaders = Object.entries({ "User-Agent": "viewer", ...viewer.headers }).flat();
  const event = buildOriginRequestEvent({
    method: viewer.method,
    uri: viewer.uri,
    querystring: viewer.querystring ?? "",
    rawHeaders,
    clientIp: "203.0.113.7",
    body: Buffer.from(viewer.body ?? ""),
    origin: {
      domainName: new URL(gateway.origin).host,
      port: Number(new URL(gateway.origin).port),
      protocol: "http",
      path: "/prod",
      customHeaders: { "x-api-key": "origin-key" },
    },
    distributionDomainName: "d111111abcdef8.cloudfront.net",
    distributionId: "EDFDVBD6EXAMPLE",
    requestId: "cf-request-id",
  });
  return sign(event);
}

/** Forwards a signed origin request as CloudFront would; `tamper` edits the body on the way. */
function forward(
  req: CloudFrontRequest,
  tamper?: (body: Buffer) => Buffer,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Array<[string, string]> = [];
  for (const list of Object.values(req.headers)) for (const h of list) headers.push([h.key ?? "", h.value]);
  for (const list of Object.values(req.origin?.custom?.customHeaders ?? {}))
    for (const h of list) headers.push([h.key ?? "", h.value]);
  headers.push(["Via", "2.0 d111111abcdef8.cloudfront.net (CloudFront)"], ["X-Forwarded-For", "203.0.113.7"]);
  let body: Buffer = req.body?.data ? Buffer.from(req.body.data, "base64") : Buffer.alloc(0);
  if (tamper) body = tamper(body);
  const url = new URL(gateway.origin);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: `${req.origin?.custom?.path ?? ""}${req.uri}${req.querystring ? `?${req.querystring}` : ""}`,
        headers: [...headers.flat(), "Content-Length", String(body.length)],
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      },
    );
    r.on("error", reject);
    r.end(body);
  });
}

function isRequest(r: CloudFrontRequest | CloudFrontResultResponse): r is CloudFrontRequest {
  return "uri" in r;
}
async function roundTrip(viewer: Viewer) {
  const signed = await throughEdge(viewer);
  if (!isRequest(signed)) throw new Error(`edge refused with ${signed.status}`);
  return { signed, res: await forward(signed) };
}

describe("edge signer → local API Gateway", () => {
  it("a form POST with '+' and '%' in its body, signed at the edge, reaches the handler intact", async () => {
    const form = "fullName=Ann+Lee&note=100%25+sure&x=%2B";
    const { res } = await roundTrip({
      method: "POST",
      uri: "/api/records",
      body: form,
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: "Bearer aaa.bbb.ccc" },
    });
    expect(res).toEqual({ status: 200, json: { seen: form } });
    const event = events[0]!;
    expect(event).toMatchObject({
      resource: "/api/records",
      path: "/api/records",
      httpMethod: "POST",
      body: form,
      isBase64Encoded: false,
    });
    expect(event.headers["X-Veil-Identity"] ?? event.headers["x-veil-identity"]).toBe("Bearer aaa.bbb.ccc");
    expect(event.requestContext).toMatchObject({
      stage: "prod",
      path: "/prod/api/records",
      identity: { accessKey: "ASIAEDGE", userArn: edgeArn, apiKey: "origin-key" },
    });
    const authorization = Object.entries(event.headers).find(
      ([k]) => k.toLowerCase() === "authorization",
    )?.[1];
    expect(authorization).toMatch(
      /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-veil-identity,/,
    );
  });

  it("a GET with special characters in the query verifies", async () => {
    const querystring = "q=john+smith&plus=%2B&pct=100%25&star=*&utf=%E2%82%AC&b=2&b=1&empty=";
    const { res } = await roundTrip({ method: "GET", uri: "/api/records", querystring });
    expect(res.status).toBe(200);
    expect(events[0]!.multiValueQueryStringParameters).toMatchObject({
      q: ["john smith"],
      plus: ["+"],
      b: ["2", "1"],
      utf: ["€"],
    });
  });

  it("a DELETE without a body verifies with the empty-string hash", async () => {
    const { res } = await roundTrip({ method: "DELETE", uri: "/api/records/r-1" });
    expect(res.status).toBe(200);
    expect(events[0]!.pathParameters).toEqual({ id: "r-1" });
  });

  it("a body changed between edge and gateway is refused", async () => {
    const signed = await throughEdge({
      method: "POST",
      uri: "/api/records",
      body: "amount=10",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    if (!isRequest(signed)) throw new Error("edge refused");
    const res = await forward(signed, () => Buffer.from("amount=99"));
    expect(res.status).toBe(403);
    expect(events).toHaveLength(0);
  });

  it("a request the edge did not sign (no Authorization) gets Missing Authentication Token", async () => {
    const signed = await throughEdge({ method: "GET", uri: "/api/records" });
    if (!isRequest(signed)) throw new Error("edge refused");
    delete signed.headers.authorization;
    expect(await forward(signed)).toEqual({ status: 403, json: { message: "Missing Authentication Token" } });
  });

  it("a truncated body never reaches the gateway: the edge answers 413", async () => {
    const out = await throughEdge({
      method: "POST",
      uri: "/api/records",
      body: "x".repeat(1024 * 1024 + 1),
      headers: { "Content-Type": "text/plain" },
    });
    expect(isRequest(out)).toBe(false);
    expect((out as CloudFrontResultResponse).status).toBe("413");
  });
});
