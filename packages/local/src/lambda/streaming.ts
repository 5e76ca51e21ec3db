/**
 * Lambda response streaming inside a local instance: the `awslambda` global of Lambda's Node.js
 * runtime (`streamifyResponse`, `HttpResponseStream.from`) and the IPC framing of a streamed response.
 * `HttpResponseStream.from` writes what the real one writes for HTTP integrations: the JSON metadata,
 * then 8 NUL bytes, then the body — the gateway parses the same bytes API Gateway does in `STREAM` mode.
 */
import { Writable } from "node:stream";

const streamed = Symbol.for("veil.local.streamifyResponse");

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

/** Messages a streaming invocation sends to the parent, besides the final `{ id, ok }`. */
export type StreamMessage =
  | { readonly id: number; readonly chunk: string } // base64
  | { readonly id: number; readonly end: true }
  | { readonly id: number; readonly abort: true };

/** Installs `globalThis.awslambda` unless the process already has one. */
export function installResponseStreaming(): void {
  const g = globalThis as { awslambda?: unknown };
  if (g.awslambda) return;
  g.awslambda = {
    streamifyResponse(handler: StreamingHandler) {
      const wrapped = () => {
        throw new Error("a streaming handler needs a streaming invocation");
      };
      return Object.assign(wrapped, { [streamed]: handler });
    },
    HttpResponseStream: {
      from(stream: Writable, metadata: unknown) {
        stream.write(JSON.stringify(metadata));
        stream.write(Buffer.alloc(8));
        return stream;
      },
    },
  };
}

/** The streaming handler behind a `streamifyResponse` export, if it is one. */
export function streamingHandlerOf(fn: unknown): StreamingHandler | undefined {
  const inner = (fn as Record<symbol, unknown> | undefined)?.[streamed];
  return typeof inner === "function" ? (inner as StreamingHandler) : undefined;
}

/**
 * A response stream whose bytes go to the parent over IPC. Each write waits for the IPC send to
 * complete, so a fast handler cannot run ahead of the channel. `destroy(err)` aborts the response.
 */
export function ipcResponseStream(
  id: number,
  send: (msg: StreamMessage, done: (err: Error | null) => void) => void,
) {
  let finished = false;
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
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
  return stream;
}
