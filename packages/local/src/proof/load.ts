/**
 * A load driver for the local stack: concurrent users create, read and update records through the local
 * CloudFront for a fixed time, remembering every acknowledged write; then every record is read back and
 * must decrypt to exactly what was last acknowledged. Reports throughput and latency percentiles.
 */
import { randomBytes } from "node:crypto";
import { type ApiClient, sessionClients } from "../client/index.ts";
import { formType, type ProofUser, recordForm } from "./harness.ts";

export interface LoadOptions {
  readonly edgeUrl: string;
  readonly users: readonly ProofUser[];
  /** Concurrent workers per user. Default 2. */
  readonly workersPerUser?: number;
  readonly durationMs: number;
  /** The client of a user's session (proofs, sealed answers). Default: the process-wide registry's. */
  readonly clientFor?: (token: string) => ApiClient;
}

export interface LoadReport {
  readonly requests: number;
  readonly acknowledgedWrites: number;
  readonly recordsChecked: number;
  readonly lost: number;
  readonly mismatched: number;
  readonly serverErrors: number;
  /** 429s, 409s and 412s: refused, not failed (the client retries). */
  readonly refused: number;
  readonly throughputPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errorsByStatus: Readonly<Record<string, number>>;
}

interface Known {
  fields: Record<string, string>;
  version: number;
  owner: ProofUser;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function fieldsFor(seq: string): Record<string, string> {
  return {
    fullName: `Load Person ${seq}`,
    dateOfBirth: "1975-06-15",
    email: `load.${seq}@example.org`,
    diagnosis: `Load diagnosis ${seq}`,
    notes: `Load notes ${seq} & more`,
  };
}

function readBack(client: ApiClient, edgeUrl: string, id: string, owner: ProofUser): Promise<Response> {
  return client.fetch(`${edgeUrl}/api/records/${id}`, { token: owner.token });
}

/** Runs the load, then the read-back check. Never throws on a bad answer: it counts it. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const known = new Map<string, Known>();
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let requests = 0;
  let writes = 0;
  let refused = 0;
  let serverErrors = 0;
  const clientFor = options.clientFor ?? ((token: string) => sessionClients.forToken(token));

  async function call(path: string, user: ProofUser, init: RequestInit = {}) {
    const started = performance.now();
    const res = await clientFor(user.token).fetch(`${options.edgeUrl}${path}`, {
      ...init,
      token: user.token,
    });
    const text = await res.text();
    latencies.push(performance.now() - started);
    requests += 1;
    if (res.status >= 500) serverErrors += 1;
    if (res.status === 429 || res.status === 409 || res.status === 412) refused += 1;
    if (res.status >= 400) errors[res.status] = (errors[res.status] ?? 0) + 1;
    return { status: res.status, text };
  }

  async function worker(user: ProofUser, deadline: number) {
    const mine: string[] = [];
    while (Date.now() < deadline) {
      const seq = randomBytes(6).toString("hex");
      const roll = Math.random();
      const id = mine[Math.floor(Math.random() * mine.length)];
      if (id === undefined || roll < 0.4) {
        const fields = fieldsFor(seq);
        const r = await call("/api/records", user, {
          method: "POST",
          headers: { "content-type": formType },
          body: recordForm(fields, "general"),
        });
        if (r.status === 201) {
          const created = JSON.parse(r.text) as { id: string; version: number };
          known.set(created.id, { fields, version: created.version, owner: user });
          mine.push(created.id);
          writes += 1;
        }
      } else if (roll < 0.7) {
        const k = known.get(id) as Known;
        const fields = fieldsFor(seq);
        const r = await call(`/api/records/${id}`, user, {
          method: "POST",
          headers: { "content-type": formType, "if-match": `"${k.version}"` },
          body: recordForm(fields, "general"),
        });
        if (r.status === 200) {
          const updated = JSON.parse(r.text) as { version: number };
          known.set(id, { fields, version: updated.version, owner: user });
          writes += 1;
        }
      } else {
        await call(`/api/records/${id}`, user);
      }
    }
  }

  const started = Date.now();
  const deadline = started + options.durationMs;
  const workers = options.users.flatMap((u) =>
    Array.from({ length: options.workersPerUser ?? 2 }, () => worker(u, deadline)),
  );
  await Promise.all(workers);
  const elapsed = (Date.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);

  let lost = 0;
  let mismatched = 0;
  for (const [id, k] of known) {
    let res = await readBack(clientFor(k.owner.token), options.edgeUrl, id, k.owner);
    // Throttled (429) is the usage plan saying "later", not a lost record: wait and ask again.
    for (let attempt = 0; res.status === 429 && attempt < 50; attempt += 1) {
      await res.arrayBuffer();
      await new Promise((r) => setTimeout(r, 100));
      res = await readBack(clientFor(k.owner.token), options.edgeUrl, id, k.owner);
    }
    if (res.status !== 200) {
      lost += 1;
      await res.arrayBuffer();
      continue;
    }
    const body = (await res.json()) as Record<string, unknown>;
    const same = Object.entries(k.fields).every(([f, v]) => body[f] === v) && body.version === k.version;
    if (!same) mismatched += 1;
  }

  return {
    requests,
    acknowledgedWrites: writes,
    recordsChecked: known.size,
    lost,
    mismatched,
    serverErrors,
    refused,
    throughputPerSecond: Math.round((requests / elapsed) * 10) / 10,
    p50Ms: Math.round(percentile(sorted, 50)),
    p99Ms: Math.round(percentile(sorted, 99)),
    errorsByStatus: errors,
  };
}
