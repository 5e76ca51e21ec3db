/**
 * Sends one signed request over `node:https` (or `node:http` for a local endpoint) and reads the whole
 * answer: keep-alive connections shared by every client of the process, one deadline over connect,
 * request and answer, and a limit on the answer's size. It knows nothing of AWS; `json-client.ts`
 * signs before and interprets after. Node's own HTTP client rather than `fetch`: it is loaded with
 * Node itself, where `fetch` is compiled at its first use in every cold process.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** Headers of an answer, lower-case names. */
export type AnswerHeaders = Readonly<IncomingHttpHeaders>;

/** A complete answer. */
export interface Answer {
  readonly status: number;
  readonly headers: AnswerHeaders;
  readonly body: Buffer;
}

/** No answer: the deadline passed (`TimeoutError`), or the connection failed (`code`: `ECONNREFUSED`, …). */
export class NoAnswer extends Error {
  constructor(
    readonly kind: "TimeoutError" | "NetworkError",
    readonly code: string,
  ) {
    super(code);
  }
}

// One pool per scheme for the process: a warm function reuses its TLS connections across invocations.
const agents = {
  "https:": new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
  "http:": new HttpAgent({ keepAlive: true, maxSockets: 50 }),
};

/** A system error code (`ECONNRESET`), or `EIO` for anything else; never a message. */
function failure(err: unknown): NoAnswer {
  if (err instanceof NoAnswer) return err;
  const code = (err as { code?: unknown } | null)?.code;
  return new NoAnswer(
    "NetworkError",
    typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code) ? code : "EIO",
  );
}

/**
 * Sends `body` to `url` with exactly `headers` (plus `content-length`) and resolves with the whole
 * answer, whatever its status. Rejects with `NoAnswer` when `timeoutMs` passes first, the connection
 * fails, or the answer is larger than `maxResponseBytes` (`EMSGSIZE`, declared or streamed).
 *
 * @example
 * const answer = await send(new URL("https://kms.eu-central-2.amazonaws.com/"), signedHeaders, body, {
 *   timeoutMs: 5000, maxResponseBytes: 1024 * 1024 });
 */
export function send(
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
  limits: { readonly timeoutMs: number; readonly maxResponseBytes: number },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: Answer | NoAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (outcome instanceof NoAnswer) {
        // The connection is in an unknown state: never hand it back to the pool.
        req.destroy();
        reject(outcome);
      } else resolve(outcome);
    };
    const https = url.protocol === "https:";
    const req = (https ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || undefined,
        method: "POST",
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        agent: agents[https ? "https:" : "http:"],
      },
      (res) => {
        const tooLarge = new NoAnswer("NetworkError", "EMSGSIZE");
        if (Number(res.headers["content-length"]) > limits.maxResponseBytes) return finish(tooLarge);
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > limits.maxResponseBytes) finish(tooLarge);
          else chunks.push(chunk);
        });
        res.on("end", () =>
          finish({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }),
        );
        res.on("error", (err) => finish(failure(err)));
        // Cut off before the end (the server dropped the connection mid-answer).
        res.on("close", () => finish(new NoAnswer("NetworkError", "ECONNRESET")));
      },
    );
    const deadline = setTimeout(() => finish(new NoAnswer("TimeoutError", "ETIMEDOUT")), limits.timeoutMs);
    req.on("error", (err) => finish(failure(err)));
    req.end(body);
  });
}
