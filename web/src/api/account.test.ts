import { describe, expect, it } from "vitest";
import { accountApi } from "./account.ts";
import type { ApiClient } from "./client.ts";
import { ApiError } from "./errors.ts";

const erased = { records: 2, images: 1, user: "deleted" as const };

/** A client that answers the erasure with the given outcomes, in order. */
function client(outcomes: readonly ("busy" | "done" | "denied")[]) {
  const calls: string[] = [];
  const call = (async (request: { method: string; path: string }) => {
    calls.push(`${request.method} ${request.path}`);
    const outcome = outcomes[calls.length - 1] ?? "done";
    if (outcome === "busy") throw new ApiError(503, "ServiceUnavailable", "busy", "rq");
    if (outcome === "denied") throw new ApiError(401, "Unauthorized", "no", "rq");
    return { status: 200, body: { erased }, etag: undefined };
  }) as ApiClient;
  return { api: accountApi(call), calls };
}

describe("accountApi.deleteAccount", () => {
  it("asks again while a large erasure answers 503, until it is done", async () => {
    const { api, calls } = client(["busy", "busy", "done"]);
    await expect(api.deleteAccount({ pauseMs: 0 })).resolves.toEqual(erased);
    expect(calls).toEqual(Array(3).fill("DELETE /api/account"));
  });

  it("gives up after the given number of attempts, and never retries another error", async () => {
    const busy = client(["busy", "busy", "busy"]);
    await expect(busy.api.deleteAccount({ attempts: 3, pauseMs: 0 })).rejects.toMatchObject({ status: 503 });
    expect(busy.calls).toHaveLength(3);
    const denied = client(["denied"]);
    await expect(denied.api.deleteAccount({ pauseMs: 0 })).rejects.toMatchObject({ status: 401 });
    expect(denied.calls).toHaveLength(1);
  });
});
