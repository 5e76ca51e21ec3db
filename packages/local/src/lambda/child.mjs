// The inside of a local Lambda instance: loads the function's bundle once (the cold start) and serves
// invocations sent by the parent over IPC. Runs in its own process with only the function's env.
//
// Plain JavaScript on bare Node, as Lambda's Node.js runtime: no TypeScript loader may touch the
// bundle (one would rewrite its dynamic imports), so the code that runs is the code that is deployed.

import { finished } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { installResponseStreaming, ipcResponseStream, streamingHandlerOf } from "./streaming.mjs";

const modulePath = process.env.VEIL_LAMBDA_MODULE;
const exportName = process.env.VEIL_LAMBDA_EXPORT ?? "handler";
if (!modulePath || !process.send) {
  process.stderr.write("lambda child: missing module or IPC channel\n");
  process.exit(1);
}

// As Lambda's Node.js runtime: response streaming through the `awslambda` global.
installResponseStreaming();
/** @type {Promise<(event: unknown, context: unknown) => Promise<unknown>>} */
const loaded = import(pathToFileURL(modulePath).href).then((m) => {
  const fn = m[exportName];
  if (typeof fn !== "function") throw new Error(`handler export '${exportName}' not found`);
  return fn;
});
// A module that fails to load fails every invocation with its error type, as an init error does.
loaded.catch(() => undefined);

process.on(
  "message",
  /** @param {{ id: number, event: unknown, context: Record<string, unknown> & { deadlineMs: number } }} msg */
  async (msg) => {
    const { id, event, context } = msg;
    const ctx = {
      ...context,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, context.deadlineMs - Date.now()),
      done() {},
      fail() {},
      succeed() {},
    };
    try {
      const handler = await loaded;
      const streaming = streamingHandlerOf(handler);
      if (streaming) {
        const responseStream = ipcResponseStream(id, (m, done) => process.send?.(m, undefined, {}, done));
        await streaming(event, responseStream, ctx);
        if (!responseStream.writableEnded && !responseStream.destroyed) responseStream.end();
        await finished(responseStream).catch(() => undefined);
        process.send?.({ id, ok: true, result: null });
        return;
      }
      const result = await handler(event, ctx);
      process.send?.({ id, ok: true, result });
    } catch (err) {
      // Like the Lambda runtime: the error type travels back, its message stays in this process's log.
      const errorType = err instanceof Error ? err.name : "Error";
      process.stderr.write(`invocation ${String(context.awsRequestId)} failed: ${errorType}\n`);
      process.send?.({ id, ok: false, errorType });
    }
  },
);
process.send({ ready: true });
