/**
 * The load generator of bench/local.ts, in its own process so that it does not share an event loop
 * with the local stack it measures. Closed loop: each virtual user (one Cognito user with its own
 * records) sends one request, waits for the answer, then sends the next. Talks to the local CloudFront
 * only, over keep-alive connections on loopback. `_load-process.ts` runs it in a forked process.
 */
import { Agent, request } from "node:http";
import {
  type ApiClient,
  createApiClient,
  type ExportedSessionKeys,
  importSessionKeys,
  isSealed,
} from "../packages/local/src/client/index.ts";

export type Operation = "read" | "create" | "update";

export interface LoadUser {
  readonly token: string;
  /** The user's records and their current versions; creates append, updates bump. */
  readonly records: Array<{ id: string; version: number }>;
  /** The session's keys (its proof key is bound to the session by the calls made before the run). */
  readonly keys: ExportedSessionKeys;
}

export interface LoadPlan {
  readonly edgeUrl: string;
  readonly users: LoadUser[];
  /** Not measured: connections open, caches fill, the JIT warms. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Share of each operation, summing to 1. */
  readonly mix: Readonly<Record<Operation, number>>;
  /** Seed of the operation choice, so runs send the same sequence. */
  readonly seed: number;
  /** Requests per second all users together may start (0: as fast as answers come back). */
  readonly pacePerSecond: number;
}

export interface LoadResult {
  readonly elapsedMs: number;
  readonly latenciesMs: Record<Operation, number[]>;
  /** Answers that were not the expected 200/201, by operation and status (or `network`). */
  readonly errors: Record<string, number>;
  /** 429 answers of the usage plan's throttle; the request was sent again after a pause. */
  readonly throttled: number;
  /** CPU time of this process from the start of the run (warm-up included). */
  readonly cpuMs: number;
  readonly writes: number;
}

const categories = ["general", "cardiology", "neurology", "oncology", "radiology"];

/** A small deterministic generator (mulberry32): the same plan sends the same operations. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid record form, about the size of a real one (~1 KB before FLE). */
export function recordForm(n: number): string {
  return new URLSearchParams({
    category: categories[n % categories.length]!,
    fullName: `Load Test Patient ${n}`,
    dateOfBirth: `19${String(50 + (n % 49)).padStart(2, "0")}-0${1 + (n % 9)}-1${n % 10}`,
    insuranceNumber: `LOAD${String(1_000_000_000 + n).slice(-10)}`,
    email: `patient.${n}@example.org`,
    phone: `+41 79 ${String(1_000_000 + (n % 9_000_000))}`,
    diagnosis: "Type 2 diabetes mellitus without complications; hypertension, essential. ".repeat(2),
    notes: "Follow-up in three months. Patient reports improved adherence to medication. ".repeat(4),
  }).toString();
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A user of the run with the client of its session. */
interface SessionUser extends LoadUser {
  readonly client: ApiClient;
}

/** Sends one request with the session's proof and opens its sealed answer, as the browser does. */
async function send(
  agent: Agent,
  base: URL,
  method: string,
  path: string,
  user: SessionUser,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const proof = await user.client.proof(method, new URL(path, base), user.token);
  const answer = await sendRaw(agent, base, method, path, user.token, { ...headers, dpop: proof.jwt }, body);
  if (!isSealed(answer.contentType)) return { status: answer.status, body: answer.body.toString() };
  const opened = await user.client.open(answer.contentType, answer.body, proof.jti);
  return { status: answer.status, body: Buffer.from(opened).toString() };
}

function sendRaw(
  agent: Agent,
  base: URL,
  method: string,
  path: string,
  token: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: {
          authorization: `Bearer ${token}`,
          ...headers,
          ...(body !== undefined ? { "content-length": Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          res.statusCode === 429
            ? reject(new Throttled())
            : resolve({
                status: res.statusCode ?? 0,
                contentType: String(res.headers["content-type"] ?? ""),
                body: Buffer.concat(chunks),
              }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Runs one request of `op` for `user`; returns its latency, or the error label. */
/** Pause after a 429 before the same request goes again (API Gateway sends no Retry-After). */
const throttledPauseMs = 25;

/** Thrown for a 429: the usage plan's throttle answered, not the stack. */
class Throttled extends Error {}

async function operate(
  agent: Agent,
  base: URL,
  op: Operation,
  user: SessionUser,
  pick: () => number,
  n: number,
): Promise<{ ms: number } | { error: string } | { throttled: true }> {
  const started = performance.now();
  try {
    if (op === "create") {
      const a = await send(
        agent,
        base,
        "POST",
        "/api/records",
        user,
        { "content-type": "application/x-www-form-urlencoded" },
        recordForm(n),
      );
      if (a.status !== 201) return { error: `create:${a.status}` };
      const { id, version } = JSON.parse(a.body) as { id: string; version: number };
      user.records.push({ id, version });
    } else {
      const record = user.records[Math.floor(pick() * user.records.length)];
      if (!record) return { error: `${op}:no-record` };
      if (op === "read") {
        const a = await send(agent, base, "GET", `/api/records/${record.id}`, user, {});
        if (a.status !== 200) return { error: `read:${a.status}` };
      } else {
        // POST, as the web app sends it: CloudFront applies FLE to POST bodies only.
        const a = await send(
          agent,
          base,
          "POST",
          `/api/records/${record.id}`,
          user,
          { "content-type": "application/x-www-form-urlencoded", "if-match": `"${record.version}"` },
          recordForm(n),
        );
        if (a.status !== 200) return { error: `update:${a.status}` };
        record.version = (JSON.parse(a.body) as { version: number }).version;
      }
    }
  } catch (err) {
    if (err instanceof Throttled) return { throttled: true };
    // The socket's error code (ECONNRESET…) when there is one: a label, never a message or a body.
    const code = (err as { code?: unknown }).code;
    if (err instanceof SyntaxError) return { error: `${op}:unreadable-answer` };
    return {
      error: `${op}:network${typeof code === "string" && /^[A-Z_]{2,32}$/.test(code) ? `:${code}` : ""}`,
    };
  }
  return { ms: performance.now() - started };
}

/** Runs the plan and returns what it measured. */
export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const base = new URL(plan.edgeUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: plan.users.length });
  const pick = random(plan.seed);
  const latenciesMs: Record<Operation, number[]> = { read: [], create: [], update: [] };
  const errors: Record<string, number> = {};
  let writes = 0;
  let throttled = 0;
  let n = 0;
  const users: SessionUser[] = await Promise.all(
    plan.users.map(async (u) => ({
      ...u,
      client: createApiClient({ keys: await importSessionKeys(u.keys) }),
    })),
  );
  const cpuAtStart = process.cpuUsage();
  const start = performance.now();
  const measureFrom = start + plan.warmupMs;
  const end = measureFrom + plan.durationMs;
  // Pacing: every request takes the next free start slot, 1/pace apart; no bursts.
  let nextSlot = performance.now();
  const paced = async () => {
    if (plan.pacePerSecond <= 0) return;
    const now = performance.now();
    const slot = Math.max(now, nextSlot);
    nextSlot = slot + 1000 / plan.pacePerSecond;
    if (slot > now) await new Promise((r) => setTimeout(r, slot - now));
  };
  const choose = (): Operation => {
    const r = pick();
    return r < plan.mix.read ? "read" : r < plan.mix.read + plan.mix.create ? "create" : "update";
  };
  await Promise.all(
    users.map(async (user) => {
      while (performance.now() < end) {
        const op = choose();
        await paced();
        const sentAt = performance.now();
        let outcome = await operate(agent, base, op, user, pick, n++);
        while ("throttled" in outcome && performance.now() < end) {
          if (sentAt >= measureFrom) throttled++;
          await new Promise((r) => setTimeout(r, throttledPauseMs * (0.5 + pick())));
          await paced();
          outcome = await operate(agent, base, op, user, pick, n++);
        }
        if (sentAt < measureFrom || "throttled" in outcome) continue;
        if ("error" in outcome) errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
        else {
          latenciesMs[op].push(outcome.ms);
          if (op !== "read") writes++;
        }
      }
    }),
  );
  agent.destroy();
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    elapsedMs: performance.now() - measureFrom,
    latenciesMs,
    errors,
    throttled,
    cpuMs: (cpu.user + cpu.system) / 1000,
    writes,
  };
}
