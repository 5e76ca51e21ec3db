import { createServer } from "node:net";
import { listen } from "../net.ts";

/** A port held open until `release`, so nothing else can take it in the meantime. */
export interface PortReservation {
  readonly port: number;
  release(): Promise<void>;
}

/**
 * Reserves a port: a fixed one is taken as is; 0 gets a free port from the OS and keeps it bound until
 * released, so a component whose URL others must know in advance (the edge) can bind it without a race.
 */
export async function reservePort(port: number): Promise<PortReservation> {
  if (port !== 0) return { port, release: async () => {} };
  const holder = createServer();
  await listen(holder, 0, "127.0.0.1");
  const address = holder.address();
  const reserved = typeof address === "object" && address ? address.port : 0;
  let released = false;
  return {
    port: reserved,
    release: () =>
      new Promise<void>((resolve) => {
        if (released) return resolve();
        released = true;
        holder.close(() => resolve());
      }),
  };
}
