/**
 * The zero-setup local database: embedded PostgreSQL (PGlite, WebAssembly) persisted to a folder and
 * served over the PostgreSQL wire protocol, so the same `pg` code runs against it. Dev only: no TLS,
 * any password is accepted, about 700 MB of memory. Imported from `@veil/db/pglite`, never from a
 * Lambda bundle.
 */
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import type { UrlPoolOptions } from "./pool.ts";

/** Options of `startPgliteServer`. */
export interface PgliteServerOptions {
  /** Folder holding the database; created if missing, reused if present. */
  dataDir: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Client connections accepted at once; default 4. PGlite is ONE database session: the socket server
   * multiplexes connections onto it (an open transaction holds the others back) and session state,
   * such as named prepared statements, is shared. Use one pool of `max: 1` per server (as
   * `poolOptions` does); the spare connections absorb reconnects (`pg` replaces a connection after
   * an error before the server has seen the old one close) and let a `psql` look in.
   */
  maxConnections?: number;
}

/** A running PGlite server. */
export interface PgliteServer {
  connectionString: string;
  /** Ready-made `createPool` options: one connection, session reset on every reconnect. */
  poolOptions: UrlPoolOptions;
  /** Closes the server and the database (flushing it to `dataDir`). */
  stop(): Promise<void>;
}

/** Starts PGlite on `dataDir` and serves it on a TCP port of `host`. */
export async function startPgliteServer(options: PgliteServerOptions): Promise<PgliteServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir });
  const host = options.host ?? "127.0.0.1";
  const maxConnections = options.maxConnections ?? 4;
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(":").pop());
  const connectionString = `postgresql://postgres:postgres@${host}:${port}/postgres?sslmode=disable`;
  return {
    connectionString,
    poolOptions: { connectionString, max: 1, resetSessionOnConnect: true },
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
