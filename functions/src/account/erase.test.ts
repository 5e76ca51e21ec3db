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
    pendingInboxKey: inboxKey({ ownerId: sub, recordId: ids[1] as string, imageId: waiting.id }),
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
      inboxObjects: 1,
      imageObjects: 1,
      user: "deleted",
    });
    expect(await left(u.sub)).toEqual(nothing);
    // Only the pending image's upload can still be in the inbox: the ingest dropped the ready one's.
    expect(calls).toEqual([
      `s3:inbox:${u.pendingInboxKey}`,
      `s3:images:${u.readyKey}`,
      "cognito:the.access.token",
    ]);
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

  it("a large account finishes: each call does a bounded number of deletes, and a retry continues", async () => {
    const u = await populate();
    const recordId = records.newRecordId();
    await records.insert(pool, {
      id: recordId,
      ownerId: u.sub,
      category: "general",
      ciphertext: Buffer.from([1]),
    });
    const many = (n: number) =>
      pool.query(
        `INSERT INTO images (id, owner_id, record_id, content_type, declared_size, upload_expires_at)
         SELECT gen_random_uuid(), $1, $2, 'image/png', 3, now() + interval '1 minute' FROM generate_series(1, $3)`,
        [u.sub, recordId, n],
      );
    await many(1000);
    // 1500 ready images: their objects are queued by the database step.
    await many(1500);
    await pool.query(
      `UPDATE images SET status = 'ready', size = 3, object_version = 'v'
       WHERE id IN (SELECT id FROM images WHERE owner_id = $1 AND status = 'pending' LIMIT 1500)`,
      [u.sub],
    );
    // A slow store (each delete waits a tick) that counts the deletes of each call.
    const { deps, calls } = fakes();
    const inner = deps.store;
    const slow = {
      ...deps,
      store: {
        delete: (l: ObjectLocation) => new Promise<void>((r) => setImmediate(r)).then(() => inner.delete(l)),
      },
    };
    const perCall: number[] = [];
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = calls.length;
      const res = await erase(slow, u.sub);
      perCall.push(calls.slice(before).filter((c) => c.startsWith("s3:")).length);
      statuses.push(res.status);
      if (res.status === 200) break;
      expect(res.status).toBe(503);
      expect(res.body.error).toBe("Unavailable");
    }
    expect(statuses.at(-1)).toBe(200);
    // Every pending upload got one delete, no ready image's inbox key did.
    const inbox = calls.filter((c) => c.startsWith("s3:inbox:"));
    expect(inbox.length).toBe(1001);
    expect(new Set(inbox).size).toBe(1001);
    expect(Math.max(...perCall)).toBeLessThanOrEqual(800);
    expect(await left(u.sub)).toMatchObject({ records: 0, images: 0 });
    // The stored images over the bound stay queued for the scheduled cleanup, none lost.
    const imageDeletes = calls.filter((c) => c.startsWith("s3:images:")).length;
    expect(imageDeletes + (await left(u.sub)).queued).toBe(1501);
    expect(calls.at(-1)).toBe("cognito:header.payload.signature");
  });

  it("erases what was written during the erasure: a record created while Cognito deletes the user", async () => {
    const u = await populate();
    const { deps } = fakes();
    let late = "";
    const racing: AccountDeps = {
      ...deps,
      cognito: {
        async deleteUser() {
          late = records.newRecordId();
          await records.insert(pool, {
            id: late,
            ownerId: u.sub,
            category: "general",
            ciphertext: Buffer.from([2]),
          });
          await audit.append(pool, {
            ownerId: u.sub,
            actor: u.sub,
            action: "create",
            recordId: late,
            requestId: "r",
          });
          return "deleted";
        },
      },
    };
    const res = await erase(racing, u.sub);
    expect(res.status).toBe(200);
    expect(res.body.erased).toMatchObject({ records: 3, auditEvents: 3, user: "deleted" });
    expect(late).not.toBe("");
    expect(await left(u.sub)).toEqual(nothing);
  });

  it("erases nothing of another user, and refuses a caller without identity", async () => {
    const mine = await populate();
    const theirs = await populate();
    expect((await erase(fakes().deps, mine.sub)).status).toBe(200);
    expect(await left(theirs.sub)).toMatchObject({ records: 2, images: 2, keys: 1, audit: 2 });
    expect((await erase(fakes().deps, "")).status).toBe(401);
  });
});
