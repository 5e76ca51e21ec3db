import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { listen } from "../net.ts";
import { reservePort } from "./ports.ts";

describe("reservePort", () => {
  it("holds an OS-chosen port until released, then hands it over", async () => {
    const r = await reservePort(0);
    expect(r.port).toBeGreaterThan(0);
    await expect(listen(createServer(), r.port, "127.0.0.1")).rejects.toMatchObject({ code: "EADDRINUSE" });
    await r.release();
    const server = createServer();
    await listen(server, r.port, "127.0.0.1");
    await new Promise((resolve) => server.close(resolve));
  });

  it("takes a fixed port as given", async () => {
    expect((await reservePort(4510)).port).toBe(4510);
  });
});
