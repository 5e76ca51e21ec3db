/**
 * `DELETE /api/account` with fake S3 and Cognito (recording, failing on demand) on a real PostgreSQL:
 * what is erased, the order (data first, the Cognito user last), fail-closed answers with a request id,
 * and a retry after each partial failure finishing the job.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { headers as headerNames } from "@veil/core";
import { audit, createPool, idempotency, images, migrate, proofs, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { imageKey, inboxKey, type ObjectLocation, StorageUnavailableError } from "@veil/storage";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiHandler } from "../shared/api-handler.ts";
import type { Pool } from "../shared/database.ts";
import { toHttpError, UnauthorizedError } from "../shared/errors.ts";
import type { AccountDeps } from "./erase.ts";
import { routes } from "./handler.ts";

let server: TestPostgres;
let pool: Pool;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

/** Fakes that log every call in order; `fail` decides per call whether it throws. */
function fakes(fail: { s3?: (l: ObjectLocation) => boolean; cognito?: () => Error | undefined } = {}) {
  const calls: string[] = [];
  const deps: AccountDeps = {
    pool,
    verifyCaller: async (event) => {
      const sub = event.headers?.["x-test-sub"];
      if (!sub) throw new UnauthorizedError();
      return { sub, username: sub, proof: { jti: "jti", jkt: "jkt" }, sealKey: {} };
    },
    store: {
      async delete(location) {
        if (fail.s3?.(location)) throw new StorageUnavailableError("DeleteObject", "SlowDown");
        calls.push(`s3:${location.bucket}:${location.key}`);
      },
    },
    // Answers in clear: these tests read the route's JSON (sealing: ../shared/api-handler.test.ts).
    sealer: { seal: async (result) => result, sealStream: () => Promise.reject(new Error("not used")) },
    buckets: { images: "images", inbox: "inbox" },
    cognito: {
      async deleteUser({ AccessToken }) {
        const err = fail.cognito?.();
        if (err) throw err;
        calls.push(`cognito:${AccessToken}`);
        return "deleted";
      },
    },
  };
  return { deps, calls };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function erase(deps: AccountDeps, sub: string, token = "header.payload.signature") {
  const handle = createApiHandler({ routes, deps: async () => deps, toHttpError, logger: silent });
  const event = {
    httpMethod: "DELETE",
    resource: "/api/account",
    path: "/api/account",
    headers: { "x-test-sub": sub, [headerNames.identity]: `Bearer ${token}` },
    requestContext: { requestId: `req-${randomBytes(4).toString("hex")}` },
  } as unknown as APIGatewayProxyEvent;
  const res = await handle(event, { awsRequestId: "aws" } as Context);
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** A user with two records, a ready and a pending image, a keyed create and an audit trail. */
async function populate() {
  const sub = `user-${randomBytes(4).toString("hex")}`;
  const ids = [records.newRecordId(), records.newRecordId()];
  for (const id of ids) {
    await records.insert(pool, { id, ownerId: sub, category: "general", ciphertext: Buffer.from([1]) });
    await audit.append(pool, { ownerId: sub, actor: sub, action: "create", recordId: id, requestId: "r" });
  }
  const pending = (recordId: string) =>
    images.createPending(pool, {
      id: randomUUID(),
      ownerId: sub,
      recordId,
      contentType: "image/png",
      declaredSize: 3,
      uploadExpiresAt: new Date(Date.now() + 60_000),
    });
  const ready = await pending(ids[0] as string);
  await images.markReady(pool, {
    id: ready.id,
    ownerId: sub,
    contentType: "image/png",
    size: 3,
    objectVersion: "v",
  });
  const waiting = await pending(ids[1] as string);
  await idempotency.claim(pool, { ownerId: sub, key: "k-1", requestHash: "h" });
  return {
    sub,
    readyKey: imageKey({ ownerId: sub, recordId: ids[0] as string, imageId: ready.id }),
    inboxKeys: [
      inboxKey({ ownerId: sub, recordId: ids[0] as string, imageId: ready.id }),
      inboxKey({ ownerId: sub, recordId: ids[1] as string, imageId: waiting.id }),
    ],
  };
}

const left = async (sub: string) => {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM records WHERE owner_id = $1)::int AS records,
            (SELECT count(*) FROM images WHERE owner_id = $1)::int AS images,
            (SELECT count(*) FROM idempotency_keys WHERE owner_id = $1)::int AS keys,
            (SELECT count(*) FROM audit_events WHERE owner_id = $1 OR actor = $1)::int AS audit,
            (SELECT count(*) FROM image_object_deletions WHERE owner_id = $1)::int AS queued`,
    [sub],
  );
  return rows[0];
};
const nothing = { records: 0, images: 0, keys: 0, audit: 0, queued: 0 };

/** Whether a new sign-in session of the user would be refused (proof sessions: ../shared/proof.test.ts). */
const refusedAsWhole = async (sub: string) =>
  (
    await proofs.recordUse(pool, {
      jti: randomBytes(16).toString("base64url"),
      originJti: randomBytes(16).toString("base64url"),
      ownerId: sub,
      jkt: "k".repeat(43),
      rememberSeconds: 0,
    })
  ).revoked;

describe("DELETE /api/account", () => {
  it("erases the inbox uploads, the data and the stored images, then the Cognito user, in that order", async () => {
    const u = await populate();
    const { deps, calls } = fakes();
    const res = await erase(deps, u.sub, "the.access.token");
    expect(res.status).toBe(200);
    expect(res.body.erased).toEqual({
      records: 2,
      images: 2,
      idempotencyKeys: 1,
      auditEvents: 2,
      inboxObjects: 2,
      imageObjects: 1,
      user: "deleted",
    });
    expect(await left(u.sub)).toEqual(nothing);
    expect(calls.slice(0, 2).sort()).toEqual(u.inboxKeys.map((k) => `s3:inbox:${k}`).sort());
    expect(calls.slice(2)).toEqual([`s3:images:${u.readyKey}`, "cognito:the.access.token"]);
    // The answer names no id.
    expect(JSON.stringify(res.body)).not.toContain(u.sub);
    // With the user gone, any token of theirs is refused, also one of a sign-in that never bound a key.
    expect(await refusedAsWhole(u.sub)).toBe(true);
  });

  it("an inbox delete failing answers 503 with a request id and erases nothing; a retry finishes", async () => {
    const u = await populate();
    const broken = fakes({ s3: (l) => l.bucket === "inbox" });
    const res = await erase(broken.deps, u.sub);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: "Unavailable", requestId: expect.stringMatching(/^req-/) });
    expect((await left(u.sub)).records).toBe(2);
    expect(broken.calls.filter((c) => c.startsWith("cognito"))).toEqual([]);
    const healthy = fakes();
    expect((await erase(healthy.deps, u.sub)).status).toBe(200);
    expect(await left(u.sub)).toEqual(nothing);
  });

  it("a stored image's delete failing answers 503 and keeps it queued, the user stays; a retry finishes", async () => {
    const u = await populate();
    const broken = fakes({ s3: (l) => l.bucket === "images" });
    expect((await erase(broken.deps, u.sub)).status).toBe(503);
    expect(await left(u.sub)).toEqual({ ...nothing, queued: 1 });
    expect(broken.calls.some((c) => c.startsWith("cognito"))).toBe(false);
    const healthy = fakes();
    const retry = await erase(healthy.deps, u.sub);
    expect(retry.status).toBe(200);
    expect(retry.body.erased).toMatchObject({ records: 0, imageObjects: 1, user: "deleted" });
    expect(healthy.calls).toEqual([`s3:images:${u.readyKey}`, "cognito:header.payload.signature"]);
    expect(await left(u.sub)).toEqual(nothing);
  });

  it("Cognito failing answers 503 after the data is gone; a revoked token 401; a retry deletes the user", async () => {
    const u = await populate();
    const down = fakes({ cognito: () => Object.assign(new Error("x"), { name: "InternalErrorException" }) });
    expect((await erase(down.deps, u.sub)).status).toBe(503);
    expect(await left(u.sub)).toEqual(nothing);
    // The user is not revoked as a whole yet: a fresh sign-in can retry the Cognito step.
    expect(await refusedAsWhole(u.sub)).toBe(false);
    const revoked = fakes({
      cognito: () => Object.assign(new Error("x"), { name: "NotAuthorizedException" }),
    });
    expect((await erase(revoked.deps, u.sub)).status).toBe(401);
    const healthy = fakes();
    const retry = await erase(healthy.deps, u.sub);
    expect(retry.status).toBe(200);
    expect(retry.body.erased).toMatchObject({ records: 0, user: "deleted" });
  });

  it("erases nothing of another user, and refuses a caller without identity", async () => {
    const mine = await populate();
    const theirs = await populate();
    expect((await erase(fakes().deps, mine.sub)).status).toBe(200);
    expect(await left(theirs.sub)).toMatchObject({ records: 2, images: 2, keys: 1, audit: 2 });
    expect((await erase(fakes().deps, "")).status).toBe(401);
  });
});
