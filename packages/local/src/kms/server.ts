import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { authenticate, type KmsPrincipals } from "./auth.ts";
import { KmsError } from "./errors.ts";
import type { Input } from "./input.ts";
import { KeyStore } from "./keystore.ts";
import { createOperations } from "./operations.ts";
import { type PolicyDocument, parsePolicy } from "./policy.ts";

/** Options of {@link startLocalKms}. */
export interface LocalKmsOptions {
  /** Port to listen on; default 0 (an ephemeral port). */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Folder of the persisted state; the KMS writes `<stateDir>/kms/state.json`. */
  readonly stateDir: string;
  readonly region: string;
  /** Default `000000000000`. */
  readonly accountId?: string;
  /** Who may call, by access key id. */
  readonly principals: KmsPrincipals;
  /**
   * Clock of the key lifecycle (rotation periods, deletion windows), so tests can move time forward.
   * SigV4 date checks always use the real time, since clients sign with it. Default: the real time.
   */
  readonly clock?: () => Date;
}

/** A fault to inject: `down` drops connections, `slow` delays answers, `throttle` answers ThrottlingException, `error` a 500. */
export interface KmsFault {
  readonly mode: "down" | "slow" | "throttle" | "error";
  /** For `slow`: delay before answering. Default 1000. */
  readonly delayMs?: number;
  /** Limit the fault to these operations (e.g. `["Decrypt"]`); default all. */
  readonly operations?: readonly string[];
}

/** Calls counted since start (or the last `resetStats`). */
export interface KmsStats {
  /** Requests received, including failed and faulted ones. */
  readonly total: number;
  /** Requests per operation (`X-Amz-Target` suffix). */
  readonly operations: Readonly<Record<string, number>>;
  /** Error answers per `__type`. */
  readonly errors: Readonly<Record<string, number>>;
}

/** A running local KMS. */
export interface LocalKms {
  /** `http://host:port`, for `new KMSClient({ endpoint })`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Creates a key directly (no request, no policy check on the creator) and returns its ARN. */
  createKey(options: { policy: PolicyDocument | string; description?: string; alias?: string }): string;
  /** A copy of the call counters. */
  stats(): KmsStats;
  resetStats(): void;
  /** Injects a fault until `setFault(null)`. */
  setFault(fault: KmsFault | null): void;
  /** Closes the server and every open connection. */
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts a KMS JSON-protocol server (`POST /`, `X-Amz-Target: TrentService.<Op>`) that `@aws-sdk/client-kms`
 * and the Encryption SDK's `KmsKeyringNode` use unchanged. Requests must be SigV4-signed by a known
 * principal; each key's policy decides what that principal may do. State survives restarts.
 *
 * @example
 * const kms = await startLocalKms({ stateDir, region: "eu-central-2", principals: { AKID: { secret, arn } } });
 * const client = new KMSClient({ endpoint: kms.endpoint, region: kms.region, credentials });
 */
export async function startLocalKms(options: LocalKmsOptions): Promise<LocalKms> {
  const accountId = options.accountId ?? "000000000000";
  const clock = options.clock ?? (() => new Date());
  const store = new KeyStore(join(options.stateDir, "kms"), options.region, accountId, () =>
    clock().getTime(),
  );
  const operations = createOperations(store);
  let fault: KmsFault | null = null;
  const stopping = new AbortController();
  let counters = { total: 0, operations: new Map<string, number>(), errors: new Map<string, number>() };
  const bump = (map: Map<string, number>, name: string) => map.set(name, (map.get(name) ?? 0) + 1);

  const send = (res: ServerResponse, status: number, body: unknown, errorType?: string) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      "content-length": Buffer.byteLength(text),
      "x-amzn-requestid": randomUUID(),
      ...(errorType !== undefined && { "x-amzn-errortype": errorType }),
    });
    res.end(text);
  };
  const sendError = (res: ServerResponse, err: unknown) => {
    const e =
      err instanceof KmsError
        ? err
        : new KmsError("KMSInternalException", "An internal error occurred.", 500);
    bump(counters.errors, e.type);
    send(res, e.status, { __type: e.type, message: e.message }, e.type);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.headers["x-amz-target"];
    const operation =
      typeof target === "string" && target.startsWith("TrentService.") ? target.slice(13) : "";
    counters.total++;
    if (operation !== "") bump(counters.operations, operation);

    const active = fault;
    if (active && (active.operations === undefined || active.operations.includes(operation))) {
      if (active.mode === "down") {
        req.socket.destroy();
        return;
      }
      if (active.mode === "slow") await sleep(active.delayMs ?? 1000, undefined, { signal: stopping.signal });
      if (active.mode === "throttle") throw new KmsError("ThrottlingException", "Rate exceeded");
      if (active.mode === "error")
        throw new KmsError("KMSInternalException", "An internal error occurred.", 500);
    }

    const body = await readBody(req);
    const principal = await authenticate(req, body, {
      region: options.region,
      principals: options.principals,
    });
    if (req.method !== "POST" || req.url !== "/") throw new KmsError("UnknownOperationException", "");
    const run = Object.hasOwn(operations, operation) ? operations[operation] : undefined;
    if (!run) throw new KmsError("UnknownOperationException", "");
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch {
      throw new KmsError("SerializationException", "Start of structure or map found where not expected.");
    }
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new KmsError("SerializationException", "Start of structure or map found where not expected.");
    }
    store.tick();
    const output = run(
      { arn: principal.arn, identityActions: principal.identityActions ?? [] },
      input as Input,
    );
    send(res, 200, output);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent && !req.socket.destroyed) sendError(res, err);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    endpoint: `http://${host}:${address.port}`,
    region: options.region,
    accountId,
    createKey({ policy, description, alias }) {
      const text = typeof policy === "string" ? policy : JSON.stringify(policy);
      parsePolicy(text);
      if (alias !== undefined && store.alias(alias)) {
        throw new KmsError(
          "AlreadyExistsException",
          `An alias with the name ${store.aliasArn(alias)} already exists`,
        );
      }
      const key = store.create(text, description ?? "");
      if (alias !== undefined) store.putAlias(alias, key.keyId);
      return key.arn;
    },
    stats: () => ({
      total: counters.total,
      operations: Object.fromEntries(counters.operations),
      errors: Object.fromEntries(counters.errors),
    }),
    resetStats() {
      counters = { total: 0, operations: new Map(), errors: new Map() };
    },
    setFault(next) {
      fault = next;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        stopping.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new KmsError("ValidationException", "The request is too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
