/**
 * Faults: KMS down, throttling or slow; PostgreSQL refusing connections, dropping one mid-transaction or
 * losing the COMMIT; the gateway unreachable from CloudFront; skewed edge clocks. Expected: a clear
 * 503/504 (or 502/403 where AWS answers so) with a request id; retries with backoff only where the call
 * is idempotent (KMS, by the SDK), never of a write; nothing half-written, nothing in clear; recovery
 * once the dependency is back.
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDatabase } from "../scan/index.ts";
import { createRecord } from "./checks.ts";
import { canaryFields, formType, makeCanaries, type ProofStack, startProofStack } from "./harness.ts";
import { recordResult } from "./results.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

let pgServer: TestPostgres;
let injected = 0;
let recovered = 0;
const planted: Record<string, string> = {};

beforeAll(async () => {
  pgServer = await startTestPostgres();
});

afterAll(async () => {
  recordResult({ section: "faults", counts: { injected, recovered } });
  await pgServer?.stop();
});

async function counts(): Promise<{ records: number; audit: number; keys: number }> {
  const c = new pg.Client({ connectionString: pgServer.connectionString });
  await c.connect();
  try {
    const r = await c.query(
      "SELECT (SELECT count(*) FROM records)::int AS records, (SELECT count(*) FROM audit_events)::int AS audit, (SELECT count(*) FROM idempotency_keys)::int AS keys",
    );
    return r.rows[0];
  } finally {
    await c.end();
  }
}

/** Creates a record with fresh canaries (remembered for the final scan). */
async function create(p: ProofStack, extra: Record<string, string> = {}) {
  const c = makeCanaries();
  Object.assign(
    planted,
    Object.fromEntries(Object.entries(canaryFields(c)).map(([k, v]) => [`${c.tag}.${k}`, v])),
  );
  return { ...(await createRecord(p, p.alice.token, canaryFields(c), extra)), canaries: c };
}

/** A 503/504 answer of the API that names its request id and, for 503, when to retry. */
function expectClearUnavailable(r: { status: number; body: { requestId?: string } }, status = 503) {
  expect(r.status).toBe(status);
  expect(r.body.requestId ?? "").toMatch(/./);
}

describe("KMS faults (a cold function, so no cached data key hides them)", () => {
  for (const mode of ["down", "throttle", "error"] as const) {
    it(`KMS ${mode}: 503 with a request id after the SDK's retries, nothing written, then recovery`, async () => {
      const p = await startProofStack({ databaseUrl: pgServer.connectionString });
      try {
        const before = await counts();
        p.stack.kms.resetStats();
        p.stack.kms.setFault({ mode });
        injected += 1;
        const failed = await create(p);
        expectClearUnavailable(failed);
        const res = await p.api("/api/records", { method: "HEAD" });
        await res.arrayBuffer();
        // GenerateDataKey is safe to repeat: the SDK retried it with backoff before giving up.
        expect(p.stack.kms.stats().operations.GenerateDataKey ?? 0).toBeGreaterThan(1);
        expect(await counts()).toEqual(before);
        p.stack.kms.setFault(null);
        const ok = await create(p);
        expect(ok.status).toBe(201);
        const read = await p.api(`/api/records/${ok.id}`, { token: p.alice.token });
        expect(((await read.json()) as { fullName: string }).fullName).toBe(ok.canaries.fullName);
        recovered += 1;
      } finally {
        await p.stop();
      }
    });
  }

  it("KMS slower than the gateway's limit: 504 with a request id; the late write is whole or absent; recovery", async () => {
    const p = await startProofStack({
      databaseUrl: pgServer.connectionString,
      test: { gatewayTimeoutMs: 1500 },
    });
    try {
      p.stack.kms.setFault({ mode: "slow", delayMs: 2500 });
      injected += 1;
      const res = await p.api("/api/records", {
        method: "POST",
        token: p.alice.token,
        headers: { "content-type": formType },
        body: new URLSearchParams({ category: "general", ...canaryFields(makeCanaries()) }).toString(),
      });
      expect(res.status).toBe(504);
      expect(res.headers.get("x-amzn-requestid") ?? "").toMatch(/./);
      await res.arrayBuffer();
      p.stack.kms.setFault(null);
      // Like Lambda after an API Gateway timeout, the function finished its work: whatever it wrote
      // is a whole record that decrypts, never a part of one.
      await new Promise((r) => setTimeout(r, 2000));
      const list = (await (await p.api("/api/records", { token: p.alice.token })).json()) as {
        items: { id: string }[];
      };
      for (const item of list.items) {
        const read = await p.api(`/api/records/${item.id}`, { token: p.alice.token });
        expect(read.status).toBe(200);
        await read.arrayBuffer();
      }
      const ok = await create(p);
      expect(ok.status).toBe(201);
      recovered += 1;
    } finally {
      await p.stop();
    }
  });
});

describe("PostgreSQL faults, through a TCP proxy in front of the database", () => {
  let db: TcpProxy;
  let p: ProofStack;

  beforeAll(async () => {
    const port = Number(new URL(pgServer.connectionString).port);
    db = await startTcpProxy({ targetPort: port });
    const url = new URL(pgServer.connectionString);
    url.port = String(db.port);
    p = await startProofStack({ databaseUrl: url.toString() });
  });
  afterAll(async () => {
    await p?.stop();
    await db?.stop();
  });

  it("database refusing connections: 503 with a request id on writes and reads, then recovery", async () => {
    const warm = await create(p);
    expect(warm.status).toBe(201);
    const before = await counts();
    db.setFault({ kind: "refuse" });
    injected += 1;
    expectClearUnavailable(await create(p));
    const read = await p.api(`/api/records/${warm.id}`, { token: p.alice.token });
    expect(read.status).toBe(503);
    expect(read.headers.get("retry-after")).toBe("2");
    await read.arrayBuffer();
    expect(await counts()).toEqual(before);
    db.setFault({ kind: "pass" });
    expect((await create(p)).status).toBe(201);
    recovered += 1;
  });

  it("connection dropped mid-transaction (after the record insert, before its audit entry): 503, nothing half-written, a keyed retry writes it once", async () => {
    const before = await counts();
    db.setFault({ kind: "cutOnText", text: "veil.audit.append", once: true });
    injected += 1;
    const key = `fault-${makeCanaries().tag}`;
    const c = makeCanaries();
    Object.assign(planted, { [`${c.tag}.fullName`]: c.fullName, [`${c.tag}.notes`]: c.notes });
    const failed = await createRecord(p, p.alice.token, canaryFields(c), { "idempotency-key": key });
    expectClearUnavailable(failed);
    // The insert was rolled back with the connection, and the handler did not retry the write itself.
    expect(await counts()).toEqual(before);
    const retried = await createRecord(p, p.alice.token, canaryFields(c), { "idempotency-key": key });
    expect(retried.status).toBe(201);
    const again = await createRecord(p, p.alice.token, canaryFields(c), { "idempotency-key": key });
    expect(again.id).toBe(retried.id);
    const after = await counts();
    expect(after.records - before.records).toBe(1);
    recovered += 1;
  });

  it("COMMIT lost on the way: 503, no record, and the retry with the same key makes exactly one", async () => {
    const before = await counts();
    db.setFault({ kind: "cutOnText", text: "COMMIT", once: true });
    injected += 1;
    const key = `commit-${makeCanaries().tag}`;
    const c = makeCanaries();
    Object.assign(planted, { [`${c.tag}.fullName`]: c.fullName });
    const failed = await createRecord(p, p.alice.token, canaryFields(c), { "idempotency-key": key });
    expectClearUnavailable(failed);
    expect((await counts()).records).toBe(before.records);
    const retried = await createRecord(p, p.alice.token, canaryFields(c), { "idempotency-key": key });
    expect(retried.status).toBe(201);
    expect((await counts()).records - before.records).toBe(1);
    recovered += 1;
  });

  it("a slow database (every packet held 100 ms) still answers correctly", async () => {
    db.setFault({ kind: "delay", ms: 100 });
    injected += 1;
    const slow = await create(p);
    db.setFault({ kind: "pass" });
    expect(slow.status).toBe(201);
    const read = await p.api(`/api/records/${slow.id}`, { token: p.alice.token });
    expect(((await read.json()) as { notes: string }).notes).toBe(slow.canaries.notes);
    recovered += 1;
  });

  it("the gateway unreachable from CloudFront: 502 with a request id, then recovery", async () => {
    p.wire.setFault({ kind: "refuse" });
    injected += 1;
    const res = await p.api("/api/records", { token: p.alice.token });
    expect(res.status).toBe(502);
    expect(((await res.json()) as { requestId: string }).requestId).toMatch(/./);
    p.wire.setFault({ kind: "pass" });
    const ok = await p.api("/api/records", { token: p.alice.token });
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
    recovered += 1;
  });

  it("edge clock skew: within 5 minutes accepted, beyond refused with 403 and a request id", async () => {
    const body = new URLSearchParams({
      category: "general",
      fullName: "Skew Test",
      dateOfBirth: "1970-01-01",
    }).toString();
    for (const minutes of [-4, 4, -6, 6]) {
      injected += 1;
      const res = await p.direct({
        method: "GET",
        path: "/api/records",
        token: p.alice.token,
        now: new Date(Date.now() + minutes * 60_000),
      });
      await res.arrayBuffer();
      if (Math.abs(minutes) < 5) expect(res.status, `${minutes} min`).toBe(200);
      else {
        expect(res.status, `${minutes} min`).toBe(403);
        expect(res.headers.get("x-amzn-requestid") ?? "").toMatch(/./);
      }
      void body;
    }
  });

  it.todo("S3 down or cutting uploads (with the image store: a TcpProxy in front of the local S3)");

  it("after every fault: no canary in clear in the database", async () => {
    expect(await scanDatabase(pgServer.connectionString, planted)).toEqual([]);
  });
});
