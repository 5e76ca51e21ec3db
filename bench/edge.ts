/**
 * Edge benchmark: the Lambda@Edge signer on a 1 MiB body against the work no signer can skip — base64
 * decoding the body string CloudFront's event carries and hashing the bytes with SHA-256 — a small
 * form POST, and the deployable bundle's size. Public API of edge/ only.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createOriginRequestHandler, type OriginRequestHandler } from "../edge/src/index.ts";
import { round, timeCases } from "./timing.ts";
import type { BenchModule } from "./types.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Largest body an origin-request function sees (CloudFront truncates beyond). */
const oneMb = 1024 * 1024;

type CloudFrontRequestEvent = Parameters<OriginRequestHandler>[0];
type CloudFrontRequest = CloudFrontRequestEvent["Records"][number]["cf"]["request"];

function event(method: string, bodyBase64: string, contentType: string): CloudFrontRequestEvent {
  const request: CloudFrontRequest = {
    clientIp: "203.0.113.9",
    method,
    uri: "/api/records",
    querystring: "",
    headers: {
      host: [{ key: "Host", value: "d111111abcdef8.cloudfront.net" }],
      "content-type": [{ key: "Content-Type", value: contentType }],
      authorization: [{ key: "Authorization", value: "Bearer aaaa.bbbb.cccc" }],
    },
    body: { action: "read-only", data: bodyBase64, encoding: "base64", inputTruncated: false },
    origin: {
      custom: {
        customHeaders: {},
        domainName: "abc123.execute-api.eu-west-1.amazonaws.com",
        keepaliveTimeout: 5,
        path: "/prod",
        port: 443,
        protocol: "https",
        readTimeout: 30,
        sslProtocols: ["TLSv1.2"],
      },
    },
  };
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d111111abcdef8.cloudfront.net",
            distributionId: "EDFDVBD6EXAMPLE",
            eventType: "origin-request",
            requestId: "bench",
          },
          request,
        },
      },
    ],
  };
}

/** A fresh copy of the parts the signer rewrites (its headers); the body string is shared, as in Lambda. */
function fresh(e: CloudFrontRequestEvent): CloudFrontRequestEvent {
  const record = e.Records[0]!;
  const request = record.cf.request;
  return {
    Records: [{ cf: { config: record.cf.config, request: { ...request, headers: { ...request.headers } } } }],
  };
}

function edgeBundleBytes(): number {
  const dir = mkdtempSync(join(tmpdir(), "veil-bench-edge-"));
  try {
    const outfile = join(dir, "index.mjs");
    execFileSync(
      join(root, "node_modules", ".bin", "tsx"),
      [join(root, "edge", "build.ts"), "--region", "eu-west-1", "--outfile", outfile],
      { stdio: "pipe" },
    );
    return statSync(outfile).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bench: BenchModule = {
  name: "edge",
  description: "Lambda@Edge SigV4 signer: 1 MiB body vs SHA-256 + base64 decode, small form, bundle size",
  async run({ quick, log }) {
    const sign = createOriginRequestHandler({
      region: "eu-west-1",
      credentials: () => ({ accessKeyId: "ASIABENCH", secretAccessKey: "bench", sessionToken: "token" }),
    });
    const body = randomBytes(oneMb);
    // Through JSON, as the Lambda runtime hands the event over: a string from JSON.parse decodes at
    // about half the speed of the external string `toString("base64")` returns for a large buffer.
    const bodyBase64 = (JSON.parse(JSON.stringify({ data: body.toString("base64") })) as { data: string })
      .data;
    const big = event("PUT", bodyBase64, "application/octet-stream");
    const form = Buffer.from(
      `category=general&fullName=${"A".repeat(600)}&notes=${"B".repeat(1400)}`, // ~2 KB, as after FLE
    ).toString("base64");
    const small = event("POST", form, "application/x-www-form-urlencoded");
    const scratch = Buffer.allocUnsafeSlow(oneMb + 3);

    log(`timing ${quick ? 4 : 25} interleaved rounds…`);
    const t = await timeCases(
      {
        sha256: { run: () => createHash("sha256").update(body).digest("hex"), batch: 8 },
        base64Decode: { run: () => Buffer.from(bodyBase64, "base64"), batch: 8 },
        base64DecodeInto: { run: () => scratch.write(bodyBase64, "base64"), batch: 8 },
        sign1mb: { run: () => sign(fresh(big)), batch: 8 },
        signSmall: { run: () => sign(fresh(small)), batch: 200 },
      },
      quick ? 4 : 25,
    );
    const b = (k: keyof typeof t) => t[k].bestUs;
    const bundleBytes = edgeBundleBytes();

    return {
      edge_sign_1mb_vs_sha256_plus_base64: {
        value: round((b("sha256") + b("base64Decode")) / b("sign1mb"), 3),
        unit: "×",
        note: "(SHA-256 of 1 MiB + base64 decode of its JSON.parse'd event string) ÷ the whole handler signing it",
      },
      edge_sign_1mb_us: { value: round(b("sign1mb")), unit: "µs", note: "origin-request handler, 1 MiB PUT" },
      edge_sha256_1mb_us: { value: round(b("sha256")), unit: "µs", note: "createHash sha256, 1 MiB" },
      edge_base64_decode_1mb_us: {
        value: round(b("base64Decode")),
        unit: "µs",
        note: "Buffer.from(base64) of 1 MiB (fresh buffer), string from JSON.parse",
      },
      edge_base64_decode_into_1mb_us: {
        value: round(b("base64DecodeInto")),
        unit: "µs",
        note: "buffer.write(base64) of 1 MiB into a reused buffer, string from JSON.parse",
      },
      edge_sign_form_2kb_us: { value: round(b("signSmall")), unit: "µs", note: "form POST after FLE" },
      edge_bundle_kb: {
        value: round(bundleBytes / 1024, 1),
        unit: "KB",
        note: "edge/build.ts output: ESM, minified, every dependency inside",
      },
    };
  },
};

export default bench;
