/**
 * Central sealing in `createApiHandler`: a success with a body leaves as one Encryption SDK message
 * that the stock client opens with the browser's private key (bound to the request's proof); errors
 * stay generic, unsealed JSON; a sealing failure is a 500 without the plaintext; no log line holds a value.
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { sealedAnswer } from "@veil/core";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { calculateJwkThumbprint } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiRoute, createApiHandler } from "./api-handler.ts";
import type { Caller } from "./auth.ts";
import { HttpError, toHttpError, UnauthorizedError } from "./errors.ts";
import { json } from "./http.ts";
import { answerSealer } from "./sealing.ts";

const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const canary = "Canary Ada Lovelace 1815-12-10";

let privateKey: KeyObject;
let sealKey: JsonWebKey;
beforeAll(() => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 3072 });
  privateKey = pair.privateKey;
  const { kty, n, e } = pair.publicKey.export({ format: "jwk" });
  sealKey = { kty, n, e, alg: "RSA-OAEP-256", use: "enc" };
});

const lines: string[] = [];
const logger = {
  info: (m: string, a: Record<string, unknown>) => lines.push(JSON.stringify({ m, a })),
  warn: (m: string, a: Record<string, unknown>) => lines.push(JSON.stringify({ m, a })),
  error: (m: string, a: Record<string, unknown>) => lines.push(JSON.stringify({ m, a })),
};

type Deps = { verifyCaller: (e: APIGatewayProxyEvent) => Promise<Caller>; sealer: typeof answerSealer };
const routes: Record<string, ApiRoute<Deps>> = {
  "GET /record": async ({ requestId }) => json(200, { fullName: canary }, requestId, { etag: '"3"' }),
  "DELETE /record": async () => ({ statusCode: 204, headers: {}, body: "" }),
  "GET /fails": async () => {
    throw new Error(`database said: ${canary}`);
  },
  "GET /refused": async () => {
    throw new HttpError(409, "Conflict", "The request conflicts with existing data");
  },
};

function handlerFor(caller: Partial<Caller> | "unauthorized") {
  const deps: Deps = {
    verifyCaller: async () => {
      if (caller === "unauthorized") throw new UnauthorizedError();
      return {
        sub: "u1",
        username: "u1",
        proof: { jti: "jti-0123456789abcdefghij", jkt: "k" },
        sealKey,
        ...caller,
      };
    },
    sealer: answerSealer,
  };
  return createApiHandler({ routes, deps: async () => deps, toHttpError, logger });
}

const call = (handler: ReturnType<typeof handlerFor>, method: string, resource: string) =>
  handler(
    {
      httpMethod: method,
      resource,
      path: resource,
      headers: {},
      requestContext: { requestId: "req-1" },
    } as never,
    { awsRequestId: "aws-1" } as Context,
  );

async function open(body: string) {
  const keyring = new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: await calculateJwkThumbprint(sealKey as never),
    rsaKey: { privateKey: privateKey as never },
    oaepHash: "sha256",
  });
  return stock.decrypt(keyring, Buffer.from(body, "base64"));
}

describe("createApiHandler sealing", { timeout: 60_000 }, () => {
  it("seals a success with a body to the caller's key, bound to the request's proof", async () => {
    const res = await call(handlerFor({}), "GET", "/record");
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": sealedAnswer.contentType,
      [sealedAnswer.plaintextTypeHeader]: "application/json",
      "x-veil-request-id": "req-1",
      etag: '"3"',
    });
    expect(res.body).not.toContain(canary);
    expect(Buffer.from(res.body, "base64").includes(canary)).toBe(false);
    const opened = await open(res.body);
    expect(JSON.parse(Buffer.from(opened.plaintext).toString("utf8"))).toEqual({ fullName: canary });
    expect(opened.messageHeader.encryptionContext).toEqual({
      [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
      [sealedAnswer.contextProofKey]: "jti-0123456789abcdefghij",
    });
  });

  it("leaves an answer without a body, and every error, unsealed and generic", async () => {
    const handler = handlerFor({});
    expect(await call(handler, "DELETE", "/record")).toMatchObject({ statusCode: 204, body: "" });
    for (const [method, resource, status] of [
      ["GET", "/fails", 500],
      ["GET", "/refused", 409],
      ["GET", "/nowhere", 404],
    ] as const) {
      const res = await call(handler, method, resource);
      expect(res.statusCode).toBe(status);
      expect(res.headers?.["content-type"]).toMatch(/^application\/json/);
      expect(JSON.parse(res.body)).toMatchObject({ requestId: "req-1" });
      expect(res.body).not.toContain(canary);
    }
    const unauthorized = await call(handlerFor("unauthorized"), "GET", "/record");
    expect(unauthorized.statusCode).toBe(401);
    expect(JSON.parse(unauthorized.body)).toEqual({
      error: "Unauthorized",
      message: new UnauthorizedError().message,
      requestId: "req-1",
    });
  });

  it("answers 500, never the plaintext, when the answer cannot be sealed", async () => {
    const res = await call(handlerFor({ sealKey: { ...sealKey, e: "Aw" } }), "GET", "/record");
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain(canary);
    expect(JSON.parse(res.body)).toMatchObject({ error: "InternalError" });
  });

  it("logs no value: no canary, no key, no jti in any line", () => {
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      expect(line).not.toContain(canary);
      expect(line).not.toContain(String(sealKey.n).slice(0, 32));
      expect(line).not.toContain("jti-0123456789abcdefghij");
    }
  });
});
