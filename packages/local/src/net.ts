import type { Server } from "node:net";

/** Starts listening and settles when bound — or rejects (e.g. EADDRINUSE) instead of throwing later. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
