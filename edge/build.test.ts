/**
 * The deployable bundle: built by the real build script into a temp folder, then loaded and invoked the
 * way Lambda would (`index.handler`), with credentials only in the runtime variables.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CloudFrontRequestEvent } from "aws-lambda";
import { afterAll, describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "veil-edge-"));
const outfile = join(dir, "index.mjs");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("edge bundle", () => {
  it("builds a small ESM bundle with the region baked in and signs with it", async () => {
    const tsx = join(here, "..", "node_modules", ".bin", "tsx");
    const log = execFileSync(
      tsx,
      [join(here, "build.ts"), "--region", "eu-central-1", "--outfile", outfile],
      {
        encoding: "utf8",
      },
    );
    expect(log).toMatch(/edge bundle: .* KB \(region eu-central-1\)/);
    expect(statSync(outfile).size).toBeLessThanOrEqual(30 * 1024);
    const code = readFileSync(outfile, "utf8");
    expect(code).not.toMatch(/@aws-sdk|@smithy/);

    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: "us-east-1", // the replica's region at the edge: must be ignored
      AWS_ACCESS_KEY_ID: "ASIABUNDLE",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_SESSION_TOKEN: "t",
    });
    try {
      const mod = (await import(pathToFileURL(outfile).href)) as {
        handler: (e: CloudFrontRequestEvent) => Promise<unknown>;
      };
      const out = (await mod.handler(event())) as { headers: Record<string, Array<{ value: string }>> };
      expect(out.headers.authorization?.[0]?.value).toContain("Credential=ASIABUNDLE/");
      expect(out.headers.authorization?.[0]?.value).toMatch(/\/eu-central-1\/execute-api\/aws4_request/);
    } finally {
      process.env = saved;
    }
  });

  it("refuses to build without a valid region", () => {
    const tsx = join(here, "..", "node_modules", ".bin", "tsx");
    expect(() =>
      execFileSync(tsx, [join(here, "build.ts"), "--outfile", outfile], {
        stdio: "pipe",
        env: { ...process.env, VEIL_EDGE_REGION: "" },
      }),
    ).toThrow();
  });
});

function event(): CloudFrontRequestEvent {
  return {
    Records: [
      {
        cf: {
          config: {
            distributionDomainName: "d.cloudfront.net",
            distributionId: "E1",
            eventType: "origin-request",
            requestId: "r",
          },
          request: {
            clientIp: "203.0.113.9",
            method: "GET",
            uri: "/api/records",
            querystring: "",
            headers: { host: [{ key: "Host", value: "api.example.com" }] },
            origin: {
              custom: {
                customHeaders: {},
                domainName: "api.example.com",
                keepaliveTimeout: 5,
                path: "/prod",
                port: 443,
                protocol: "https",
                readTimeout: 30,
                sslProtocols: ["TLSv1.2"],
              },
            },
          },
        },
      },
    ],
  };
}
