import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { PassThrough, type Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { LambdaInvokeError } from "./errors.ts";

export interface LocalLambdaOptions {
  /** Function name, as in `context.functionName`. */
  readonly name: string;
  /**
   * Absolute path of the function's JavaScript module — its bundle (`functions/build.ts`), as Lambda
   * runs it. The instance runs on bare Node: TypeScript does not load.
   */
  readonly module: string;
  readonly exportName?: string;
  /** The function's environment: nothing of the parent's leaks in, as in Lambda. */
  readonly env: Record<string, string>;
  /** Where the function's stdout/stderr (its CloudWatch log stream) go. */
  readonly logFile: string;
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
}

/** A running local function: `invoke` has the shape API Gateway's integration calls. */
export interface LocalLambda {
  invoke<T = unknown>(event: unknown, context?: { awsRequestId?: string }): Promise<T>;
  /**
   * Invokes a response-streaming function (`awslambda.streamifyResponse`), as `InvokeWithResponseStream`
   * does: the bytes it writes (for HTTP integrations: JSON metadata, 8 NUL bytes, body) arrive as they
   * come. The stream errors when the function fails, aborts, crashes or times out.
   */
  invokeStream(event: unknown, context?: { awsRequestId?: string }): Promise<Readable>;
  stop(): Promise<void>;
  /** Number of cold starts so far (process launches). */
  readonly coldStarts: number;
}

interface Pending {
  proc: ChildProcess;
  /** The response stream of a streaming invocation. */
  stream?: PassThrough;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer: NodeJS.Timeout;
}

/** IPC fields of a streamed response (see streaming.ts). */
interface StreamFields {
  chunk?: string;
  end?: boolean;
  abort?: boolean;
}

const childPath = fileURLToPath(new URL("./child.mjs", import.meta.url));
// Only what a Node process needs to start; the rest of the parent's environment stays out.
const inherited = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "NODE_EXTRA_CA_CERTS"];

/**
 * Starts a local Lambda function in its own Node process. Invocations go over IPC; a crashed or
 * timed-out instance is replaced by a fresh one (a new cold start) on the next invocation.
 */
export function startLocalLambda(options: LocalLambdaOptions): LocalLambda {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const log: WriteStream = createWriteStream(options.logFile, { flags: "a" });
  const pending = new Map<number, Pending>();
  let child: ChildProcess | undefined;
  let ready: Promise<void> | undefined;
  let nextId = 1;
  let coldStarts = 0;
  let stopped = false;

  function launch(): Promise<void> {
    coldStarts += 1;
    const env: Record<string, string> = {};
    for (const k of inherited) if (process.env[k]) env[k] = process.env[k] as string;
    Object.assign(env, options.env, {
      AWS_LAMBDA_FUNCTION_NAME: options.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMb ?? 1024),
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      VEIL_LAMBDA_MODULE: options.module,
      VEIL_LAMBDA_EXPORT: options.exportName ?? "handler",
    });
    const proc = fork(childPath, [], {
      env,
      // None of this process's flags (a TypeScript loader under tsx or Vitest): bare Node, as in Lambda.
      execArgv: [],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    proc.stdout?.pipe(log, { end: false });
    proc.stderr?.pipe(log, { end: false });
    child = proc;
    const started = new Promise<void>((resolve, reject) => {
      proc.once("message", () => resolve());
      proc.once("exit", (code) =>
        reject(new LambdaInvokeError(`function ${options.name} exited during init (${code})`)),
      );
    });
    proc.on(
      "message",
      (msg: { id?: number; ok?: boolean; result?: unknown; errorType?: string } & StreamFields) => {
        if (msg.id === undefined) return;
        const p = pending.get(msg.id);
        if (!p) return;
        if (msg.chunk !== undefined || msg.end || msg.abort) {
          if (msg.chunk !== undefined) p.stream?.write(Buffer.from(msg.chunk, "base64"));
          else if (msg.end) p.stream?.end();
          else p.stream?.destroy(new LambdaInvokeError(`function ${options.name} aborted its response`));
          return;
        }
        pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new LambdaInvokeError(`function ${options.name} failed: ${msg.errorType ?? "Error"}`));
      },
    );
    proc.on("exit", () => {
      if (child === proc) {
        child = undefined;
        ready = undefined;
      }
      for (const [id, p] of pending) {
        if (p.proc !== proc) continue;
        clearTimeout(p.timer);
        pending.delete(id);
        p.reject(new LambdaInvokeError(`function ${options.name} instance exited`));
      }
    });
    return started;
  }

  async function call<T>(
    event: unknown,
    context: { awsRequestId?: string },
    stream?: PassThrough,
  ): Promise<T> {
    if (stopped) throw new LambdaInvokeError(`function ${options.name} is stopped`);
    ready ??= launch();
    await ready;
    const proc = child;
    if (!proc) throw new LambdaInvokeError(`function ${options.name} is not running`);
    const id = nextId++;
    const awsRequestId = context.awsRequestId ?? randomUUID();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new LambdaInvokeError(`function ${options.name} timed out after ${timeoutMs} ms`));
        // Like Lambda: a timed-out instance is never reused.
        if (child === proc) {
          child = undefined;
          ready = undefined;
        }
        proc.kill("SIGKILL");
      }, timeoutMs);
      pending.set(id, {
        proc,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        ...(stream ? { stream } : {}),
      });
      proc.send({
        id,
        event,
        context: {
          awsRequestId,
          functionName: options.name,
          functionVersion: "$LATEST",
          invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${options.name}`,
          memoryLimitInMB: String(options.memoryMb ?? 1024),
          logGroupName: `/aws/lambda/${options.name}`,
          logStreamName: "local",
          deadlineMs: Date.now() + timeoutMs,
        },
      });
    });
  }

  return {
    get coldStarts() {
      return coldStarts;
    },
    async invoke<T>(event: unknown, context: { awsRequestId?: string } = {}): Promise<T> {
      return call<T>(event, context);
    },
    async invokeStream(event: unknown, context: { awsRequestId?: string } = {}): Promise<Readable> {
      const stream = new PassThrough();
      call(event, context, stream).then(
        () => {
          if (!stream.writableEnded) {
            stream.destroy(new LambdaInvokeError(`function ${options.name} did not end its response`));
          }
        },
        (err: unknown) => stream.destroy(err as Error),
      );
      return stream;
    },
    async stop() {
      stopped = true;
      const proc = child;
      if (proc && proc.exitCode === null) {
        await new Promise<void>((resolve) => {
          proc.once("exit", () => resolve());
          proc.kill("SIGTERM");
          setTimeout(() => proc.kill("SIGKILL"), 2000).unref();
        });
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}
