/**
 * A small TCP proxy for proof tests, put between two components (CloudFront → gateway, function →
 * PostgreSQL). It can record what passes (a rogue operator tapping the wire) and inject faults: refuse
 * connections, cut a connection after N bytes or when a pattern passes, delay every chunk.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

/** How the proxy treats traffic from now on. */
export type ProxyFault =
  | { readonly kind: "pass" }
  /** New connections are accepted and closed at once; open ones are cut. */
  | { readonly kind: "refuse" }
  /** Each connection is cut once this many bytes went client → server after the fault was set. */
  | { readonly kind: "cutAfterBytes"; readonly bytes: number }
  /** A connection is cut (before forwarding) when a client → server chunk contains this text. */
  | { readonly kind: "cutOnText"; readonly text: string; readonly once?: boolean }
  /** Every chunk, both ways, is held this long. */
  | { readonly kind: "delay"; readonly ms: number };

export interface TcpProxyOptions {
  readonly targetHost?: string;
  readonly targetPort: number;
  /** Default 0 (ephemeral). */
  readonly port?: number;
  /** Keep a copy of every byte that passes (both ways). */
  readonly record?: boolean;
}

/** A point in a proxy's recording (`TcpProxy.mark`). */
export type RecordingMark = { readonly chunk: number };

export interface TcpProxy {
  readonly port: number;
  setFault(fault: ProxyFault): void;
  /**
   * Everything recorded since start or the last `clearRecording` (empty unless `record`), connection
   * by connection: both ways, or only client → server (`"request"`) or server → client (`"answer"`).
   * With `since` (a `mark()`), only what passed after that mark.
   */
  recorded(direction?: "request" | "answer", since?: RecordingMark): Buffer;
  /** A point in the recording, for `recorded(direction, since)`: bytes are grouped by connection, so a length is not one. */
  mark(): RecordingMark;
  clearRecording(): void;
  /** Connections cut or refused by a fault so far. */
  readonly faultsInjected: number;
  stop(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  let fault: ProxyFault = { kind: "pass" };
  let epoch = 0;
  let injected = 0;
  const chunks: { connection: number; request: boolean; data: Buffer }[] = [];
  const open = new Set<Socket>();
  let connections = 0;

  const server: Server = createServer((client) => {
    const connection = connections++;
    open.add(client);
    client.on("close", () => open.delete(client));
    if (fault.kind === "refuse") {
      injected += 1;
      client.destroy();
      return;
    }
    const upstream = connect({ host: options.targetHost ?? "127.0.0.1", port: options.targetPort });
    open.add(upstream);
    upstream.on("close", () => open.delete(upstream));
    let sent = 0;
    let sentEpoch = epoch;
    const cut = () => {
      injected += 1;
      client.destroy();
      upstream.destroy();
    };
    const forward = (to: Socket, data: Buffer) => {
      if (options.record) chunks.push({ connection, request: to === upstream, data: Buffer.from(data) });
      const f = fault;
      if (f.kind === "delay") setTimeout(() => to.writable && to.write(data), f.ms);
      else if (to.writable) to.write(data);
    };
    client.on("data", (data: Buffer) => {
      const f = fault;
      if (sentEpoch !== epoch) {
        sentEpoch = epoch;
        sent = 0;
      }
      if (f.kind === "refuse") return cut();
      if (f.kind === "cutOnText" && data.includes(f.text)) {
        if (f.once) fault = { kind: "pass" };
        return cut();
      }
      if (f.kind === "cutAfterBytes" && sent + data.length > f.bytes) {
        forward(upstream, data.subarray(0, Math.max(0, f.bytes - sent)));
        return cut();
      }
      sent += data.length;
      forward(upstream, data);
    });
    upstream.on("data", (data: Buffer) => forward(client, data));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    setFault(next) {
      fault = next;
      epoch += 1;
      if (next.kind === "refuse") {
        for (const s of open) s.destroy();
      }
    },
    // Grouped by connection (in order within each), so a value split across two chunks of one
    // connection is found whole even when other connections' chunks came in between.
    recorded: (direction, since) =>
      Buffer.concat(
        chunks
          .slice(since?.chunk ?? 0)
          .filter((c) => direction === undefined || c.request === (direction === "request"))
          .sort((a, b) => a.connection - b.connection)
          .map((c) => c.data),
      ),
    mark: () => ({ chunk: chunks.length }),
    clearRecording: () => {
      chunks.length = 0;
    },
    get faultsInjected() {
      return injected;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
