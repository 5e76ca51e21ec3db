/**
 * Lambda response streaming inside a local instance: the `awslambda` global of Lambda's Node.js
 * runtime (`streamifyResponse`, `HttpResponseStream.from`) and the IPC framing of a streamed response.
 * `HttpResponseStream.from` writes what the real one writes for HTTP integrations: the JSON metadata,
 * then 8 NUL bytes, then the body — the gateway parses the same bytes API Gateway does in `STREAM` mode.
 *
 * Plain JavaScript, like child.mjs: the instance runs on bare Node with no TypeScript loader.
 */
import { Writable } from "node:stream";

const streamed = Symbol.for("veil.local.streamifyResponse");

/**
 * @typedef {(event: unknown, responseStream: Writable, context: unknown) => Promise<void>} StreamingHandler
 * Messages a streaming invocation sends to the parent, besides the final `{ id, ok }`:
 * @typedef {{ id: number, chunk: string } | { id: number, end: true } | { id: number, abort: true }} StreamMessage
 */

/** Installs `globalThis.awslambda` unless the process already has one. */
export function installResponseStreaming() {
  if (globalThis.awslambda) return;
  globalThis.awslambda = {
    /** @param {StreamingHandler} handler */
    streamifyResponse(handler) {
      const wrapped = () => {
        throw new Error("a streaming handler needs a streaming invocation");
      };
      return Object.assign(wrapped, { [streamed]: handler });
    },
    HttpResponseStream: {
      /** @param {Writable} stream @param {unknown} metadata */
      from(stream, metadata) {
        stream.write(JSON.stringify(metadata));
        stream.write(Buffer.alloc(8));
        return stream;
      },
    },
  };
}

/**
 * The streaming handler behind a `streamifyResponse` export, if it is one.
 * @param {unknown} fn
 * @returns {StreamingHandler | undefined}
 */
export function streamingHandlerOf(fn) {
  const inner = fn?.[streamed];
  return typeof inner === "function" ? inner : undefined;
}

/**
 * A response stream whose bytes go to the parent over IPC. Each write waits for the IPC send to
 * complete, so a fast handler cannot run ahead of the channel. `destroy(err)` aborts the response.
 * @param {number} id
 * @param {(msg: StreamMessage, done: (err: Error | null) => void) => void} send
 */
export function ipcResponseStream(id, send) {
  let finished = false;
  return new Writable({
    write(chunk, _enc, done) {
      send({ id, chunk: chunk.toString("base64") }, (err) => done(err ?? null));
    },
    final(done) {
      finished = true;
      send({ id, end: true }, (err) => done(err ?? null));
    },
    destroy(err, done) {
      if (!finished) send({ id, abort: true }, () => undefined);
      done(err);
    },
  });
}
