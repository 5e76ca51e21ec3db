/**
 * The `proof` and `sealing` switches (test builds only): with `proof` off a request without any proof
 * is accepted and answered in clear; with `sealing` off answers leave as plain JSON. Each switch removes
 * exactly its control.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import type { Caller, VerifiedToken } from "../shared/auth.ts";
import { UnauthorizedError } from "../shared/errors.ts";
import type { AnswerSealer } from "../shared/sealing.ts";
import type { RecordsDeps } from "./deps.ts";
import { disableControlEnv, disabledControl, withTestSwitches } from "./test-switches.ts";

const token: VerifiedToken = { token: "t", sub: "u1", username: "u1", originJti: "o1" };
const sealed = {
  statusCode: 200,
  headers: { "content-type": "application/vnd.veil.sealed+base64" },
  body: "c2VhbGVk",
};
const plain: APIGatewayProxyResult = {
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: "{}",
};

function fakeDeps(): RecordsDeps {
  const sealer: AnswerSealer = {
    seal: async (result) => (result.body ? sealed : result),
    sealStream: () => Promise.reject(new Error("not used")),
  };
  return {
    verifyToken: async () => token,
    verifyProof: async () => {
      throw new UnauthorizedError();
    },
    verifyCaller: async () => {
      throw new UnauthorizedError();
    },
    sealer,
  } as unknown as RecordsDeps;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noProof = { headers: {} } as unknown as APIGatewayProxyEvent;

afterEach(() => {
  delete process.env[disableControlEnv];
});

describe("proof-of-possession test switches", () => {
  it("are known controls", () => {
    for (const name of ["proof", "sealing"]) {
      process.env[disableControlEnv] = name;
      expect(disabledControl()).toBe(name);
    }
  });

  it("proof off: a request without a proof is accepted, and its answer is in clear (no key to seal to)", async () => {
    process.env[disableControlEnv] = "proof";
    const d = withTestSwitches(fakeDeps(), silent);
    const caller: Caller = await d.verifyCaller(noProof);
    expect(caller.sub).toBe("u1");
    expect(await d.sealer.seal(plain, caller)).toEqual(plain);
  });

  it("sealing off: answers leave as the routes made them; proofs are still required", async () => {
    process.env[disableControlEnv] = "sealing";
    const d = withTestSwitches(fakeDeps(), silent);
    await expect(d.verifyCaller(noProof)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await d.sealer.seal(plain, {} as Caller)).toEqual(plain);
  });

  it("with no switch, both controls stay", async () => {
    const d = withTestSwitches(fakeDeps(), silent);
    await expect(d.verifyCaller(noProof)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await d.sealer.seal(plain, {} as Caller)).toEqual(sealed);
  });
});
