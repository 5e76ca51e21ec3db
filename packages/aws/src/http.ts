/**
 * One HTTP/1.1 exchange over node:http / node:https with a keep-alive agent and a deadline covering
 * connect, request and the whole response body. No retries here (see `retry.ts`), no parsing.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** What to send. `url` is absolute; header names lower case. */
export interface HttpRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

/** What came back. */
export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Why no response came: the deadline passed, or the connection failed (`code`: `ECONNREFUSED`, …). */
export class HttpFailure extends Error {
  constructor(
    readonly kind: "timeout" | "network",
    readonly code: string,
  ) {
    super(kind === "timeout" ? "timed out" : code);
  }
}

/** Options of {@link send}. */
export interface SendOptions {
  /** Deadline of the whole exchange, in ms. */
  readonly timeoutMs: number;
  /** Largest response body accepted; a larger one fails as a network error (`EMSGSIZE`). */
  readonly maxResponseBytes: number;
}

// One keep-alive agent per scheme for the life of the process: a Lambda instance talks to the same
// few endpoints for its whole life, so reusing connections saves a TLS handshake per call.
let agents: { http: HttpAgent; https: HttpsAgent } | undefined;
function agentsFor() {
  agents ??= {
    http: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
  };
  return agents;
}

/** Sends one request and reads the whole response; rejects with {@link HttpFailure} only. */
export function send(req: HttpRequest, options: SendOptions): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const https = req.url.protocol === "https:";
    if (!https && req.url.protocol !== "http:") {
      reject(new HttpFailure("network", "EPROTO"));
      return;
    }
    let settled = false;
    const fail = (failure: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      reject(failure);
    };
    const outgoing = (https ? httpsRequest : httpRequest)(
      req.url,
      {
        method: req.method,
        headers: req.headers,
        agent: https ? agentsFor().https : agentsFor().http,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) fail(new HttpFailure("network", "EMSGSIZE"));
          else chunks.push(chunk);
        });
        res.on("error", (err: NodeJS.ErrnoException) =>
          fail(new HttpFailure("network", err.code ?? "ECONNRESET")),
        );
        res.on("aborted", () => fail(new HttpFailure("network", "ECONNRESET")));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            statusCode: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks, size),
          });
        });
      },
    );
    const timer = setTimeout(() => fail(new HttpFailure("timeout", "ETIMEDOUT")), options.timeoutMs);
    outgoing.on("error", (err: NodeJS.ErrnoException) =>
      fail(new HttpFailure("network", err.code ?? "ECONNRESET")),
    );
    outgoing.end(req.body);
  });
}
