import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buffer } from "node:stream/consumers";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalLambda, startLocalLambda } from "./runtime.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-lambda-stream-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const module = join(dir, "streaming.mjs");
writeFileSync(
  module,
  `export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  if (event.op === "throw") throw new TypeError("before any byte");
  const out = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { "x-a": "b" } });
  for (let i = 0; i < (event.n ?? 3); i++) out.write(Buffer.alloc(64 * 1024, 65 + (i % 26)));
  if (event.op === "abort") return out.destroy(new Error("midway"));
  out.end();
});
`,
);

let fn: LocalLambda | undefined;
afterEach(async () => {
  await fn?.stop();
  fn = undefined;
});

describe("local Lambda response streaming", () => {
  it("delivers the HTTP prelude (JSON, 8 NUL bytes) and the body as written", async () => {
    fn = startLocalLambda({ name: "s", module, env: {}, logFile: join(dir, "a.log") });
    const bytes = await buffer(await fn.invokeStream({ op: "ok", n: 40 }));
    const split = bytes.indexOf(Buffer.alloc(8));
    expect(JSON.parse(bytes.subarray(0, split).toString())).toEqual({
      statusCode: 201,
      headers: { "x-a": "b" },
    });
    expect(bytes.length - split - 8).toBe(40 * 64 * 1024);
  });

  it("a failing or aborting function errors the stream; the instance survives", async () => {
    fn = startLocalLambda({ name: "s", module, env: {}, logFile: join(dir, "b.log") });
    await expect(buffer(await fn.invokeStream({ op: "throw" }))).rejects.toThrow(/failed: TypeError/);
    await expect(buffer(await fn.invokeStream({ op: "abort" }))).rejects.toThrow(/aborted/);
    expect((await buffer(await fn.invokeStream({ op: "ok" }))).length).toBeGreaterThan(3 * 64 * 1024);
    expect(fn.coldStarts).toBe(1);
  });
});
