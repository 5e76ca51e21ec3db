/**
 * How the local API Gateway answers: its own errors, a buffered proxy result, and a streamed
 * integration's metadata and body, each as API Gateway writes them.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { APIGatewayProxyResult } from "aws-lambda";
import { type GatewayError, gatewayErrors } from "./awsErrors.ts";

/** Writes one of API Gateway's own error answers (JSON, with its request id and error type). */
export function sendError(res: ServerResponse, error: GatewayError, requestId: string, close = false): void {
  if (res.headersSent) return;
  const body = JSON.stringify(error.body);
  res.writeHead(error.status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": requestId,
    "x-amzn-ErrorType": error.type,
    ...(close ? { Connection: "close" } : {}),
  });
  res.end(body);
}

/** Writes a proxy result like API Gateway; `false` when the result is malformed (caller sends 502). */
export function sendResult(res: ServerResponse, result: APIGatewayProxyResult, requestId: string): boolean {
  if (
    typeof result !== "object" ||
    result === null ||
    !Number.isInteger(result.statusCode) ||
    result.statusCode < 100 ||
    result.statusCode > 599 ||
    (result.body !== undefined && typeof result.body !== "string")
  ) {
    return false;
  }
  const out = new Map<string, { name: string; values: string[] }>();
  // API Gateway merges both maps; for a name in both, only the multi-value entries are kept.
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    out.set(name.toLowerCase(), { name, values: values.map(String) });
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    if (!out.has(name.toLowerCase())) out.set(name.toLowerCase(), { name, values: [String(value)] });
  }
  for (const hop of ["content-length", "transfer-encoding", "connection"]) out.delete(hop);
  if (!out.has("content-type"))
    out.set("content-type", { name: "Content-Type", values: ["application/json"] });
  out.set("x-amzn-requestid", { name: "x-amzn-RequestId", values: [requestId] });

  const body = Buffer.from(result.body ?? "", result.isBase64Encoded ? "base64" : "utf8");
  for (const { name, values } of out.values()) res.setHeader(name, values);
  res.setHeader("Content-Length", body.length);
  res.statusCode = result.statusCode;
  res.end(body);
  return true;
}

const delimiter = Buffer.alloc(8);
const maxPrelude = 64 * 1024;

/**
 * Answers from a streaming integration like API Gateway in `STREAM` mode: reads the metadata up to the
 * 8-NUL delimiter (502 if it is malformed or the function fails first, 504 if it takes longer than the
 * integration timeout), then pipes the body as it comes. A failure after the status line aborts the
 * connection, as API Gateway does.
 */
export async function sendStream(
  res: ServerResponse,
  started: Promise<Readable>,
  requestId: string,
  timeoutMs: number,
  onFailure: (reason: string) => void,
): Promise<void> {
  let stream: Readable;
  try {
    stream = await started;
  } catch {
    onFailure("invoke");
    return sendError(res, gatewayErrors.internal, requestId);
  }
  let held = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;
  const prelude = await new Promise<{ meta: unknown; rest: Buffer } | "timeout" | "failed">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    const onData = (chunk: Buffer) => {
      held = Buffer.concat([held, chunk]);
      const at = held.indexOf(delimiter);
      if (at < 0) {
        if (held.length > maxPrelude) finish("failed");
        return;
      }
      try {
        finish({ meta: JSON.parse(held.subarray(0, at).toString("utf8")), rest: held.subarray(at + 8) });
      } catch {
        finish("failed");
      }
    };
    const onEnd = () => finish("failed");
    const finish = (v: { meta: unknown; rest: Buffer } | "timeout" | "failed") => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onEnd);
      stream.pause();
      resolve(v);
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onEnd);
  }).finally(() => clearTimeout(timer));
  if (prelude === "timeout" || prelude === "failed") {
    stream.destroy();
    onFailure(prelude);
    return sendError(res, prelude === "timeout" ? gatewayErrors.timeout : gatewayErrors.internal, requestId);
  }
  const meta = prelude.meta as {
    statusCode?: unknown;
    headers?: Record<string, string>;
    multiValueHeaders?: Record<string, string[]>;
    cookies?: string[];
  };
  const status = Number(meta.statusCode ?? 200);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    stream.destroy();
    onFailure("malformed metadata");
    return sendError(res, gatewayErrors.internal, requestId);
  }
  for (const [name, values] of Object.entries(meta.multiValueHeaders ?? {}))
    res.setHeader(name, values.map(String));
  for (const [name, value] of Object.entries(meta.headers ?? {})) {
    if (!res.hasHeader(name) && !["transfer-encoding", "connection"].includes(name.toLowerCase())) {
      res.setHeader(name, String(value));
    }
  }
  if (meta.cookies?.length) res.setHeader("set-cookie", meta.cookies);
  res.setHeader("x-amzn-RequestId", requestId);
  res.statusCode = status;
  if (prelude.rest.length > 0) res.write(prelude.rest);
  await new Promise<void>((resolve) => {
    stream.on("error", () => {
      onFailure("stream");
      res.destroy();
      resolve();
    });
    res.on("close", () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
