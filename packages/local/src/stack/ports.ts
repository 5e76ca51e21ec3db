import { createServer } from "node:net";
import type { PortMap } from "./config.ts";

/** Asks the OS for a free port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Replaces every 0 in a port map with a free port, so components can know each other's URLs upfront. */
export async function resolvePorts(ports: PortMap): Promise<PortMap> {
  const out = { ...ports };
  for (const key of Object.keys(out) as (keyof PortMap)[]) if (out[key] === 0) out[key] = await freePort();
  return out;
}
