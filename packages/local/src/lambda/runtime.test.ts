import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type LocalLambda, startLocalLambda } from "./runtime.ts";

const dir = mkdtempSync(join(tmpdir(), "veil-lambda-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const module = join(dir, "fn.mjs");
writeFileSync(
  module,
  `const cold = Date.now();
export async function handler(event, context) {
  if (event.op === "env") return { secret: process.env.PARENT_ONLY ?? null, mine: process.env.MINE, fn: process.env.AWS_LAMBDA_FUNCTION_NAME };
  if (event.op === "flags") return { execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? null };
  if (event.op === "throw") throw new TypeError("boom with secret detail");
  if (event.op === "crash") process.exit(3);
  if (event.op === "hang") await new Promise(() => {});
  console.log("invoked", context.awsRequestId);
  return { cold, remaining: context.getRemainingTimeInMillis() > 0 };
}
`,
);
const typescript = join(dir, "fn.ts");
writeFileSync(typescript, "export const handler = async (event: unknown): Promise<unknown> => event;\n");

let fn: LocalLambda | undefined;
afterEach(async () => {
  await fn?.stop();
  fn = undefined;
});

describe("local Lambda runtime", () => {
  it("runs the handler in its own process with only the function's environment", async () => {
    process.env.PARENT_ONLY = "leak";
    fn = startLocalLambda({ name: "t", module, env: { MINE: "yes" }, logFile: join(dir, "a.log") });
    expect(await fn.invoke({ op: "env" })).toEqual({ secret: null, mine: "yes", fn: "t" });
    delete process.env.PARENT_ONLY;
  });

  it("runs on bare Node, as Lambda does: no loader flags, and a TypeScript module does not load", async () => {
    fn = startLocalLambda({ name: "t", module, env: {}, logFile: join(dir, "e.log") });
    expect(await fn.invoke({ op: "flags" })).toEqual({ execArgv: [], nodeOptions: null });
    await fn.stop();
    fn = startLocalLambda({ name: "t", module: typescript, env: {}, logFile: join(dir, "f.log") });
    // Node refuses the .ts extension (ERR_UNKNOWN_FILE_EXTENSION, a TypeError).
    await expect(fn.invoke({})).rejects.toThrow(/failed: TypeError$/);
  });

  it("keeps the instance warm and logs to the function's log file", async () => {
    const logFile = join(dir, "b.log");
    fn = startLocalLambda({ name: "t", module, env: {}, logFile });
    const a = await fn.invoke<{ cold: number; remaining: boolean }>({ op: "ok" }, { awsRequestId: "req-1" });
    const b = await fn.invoke<{ cold: number }>({ op: "ok" });
    expect(a.cold).toBe(b.cold);
    expect(a.remaining).toBe(true);
    expect(fn.coldStarts).toBe(1);
    await fn.stop();
    fn = undefined;
    expect(readFileSync(logFile, "utf8")).toContain("invoked req-1");
  });

  it("reports a thrown error by type only and survives it", async () => {
    fn = startLocalLambda({ name: "t", module, env: {}, logFile: join(dir, "c.log") });
    await expect(fn.invoke({ op: "throw" })).rejects.toThrow(/failed: TypeError$/);
    await expect(fn.invoke({ op: "ok" })).resolves.toBeTruthy();
  });

  it("replaces a crashed or timed-out instance with a new cold start", async () => {
    fn = startLocalLambda({ name: "t", module, env: {}, logFile: join(dir, "d.log"), timeoutMs: 1500 });
    await expect(fn.invoke({ op: "crash" })).rejects.toThrow(/exited/);
    await expect(fn.invoke({ op: "hang" })).rejects.toThrow(/timed out/);
    await expect(fn.invoke({ op: "ok" })).resolves.toBeTruthy();
    expect(fn.coldStarts).toBe(3);
  });
});
