/**
 * The canary scanner behind `pnpm scan:canaries`: plants unique canaries through the public API of a
 * running local stack (sign up, create, update, read via the local CloudFront), then searches every
 * table and column, every file of the state folder (object store, KMS state, secrets, logs) for them,
 * and flags PII-shaped values (e-mails, phone and insurance numbers, birth dates) in any database column
 * or log line that is not expected to hold them: a small Macie.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { piiShapes } from "@veil/core";
import pg from "pg";
import { createApiClient } from "../client/index.ts";
import { signUpAndSignIn } from "../cognito/index.ts";
import { type CanaryHit, scanDatabase, scanFiles } from "../scan/index.ts";
import type { LocalStackInfo } from "../stack/config.ts";
import { canaryFields, formType, makeCanaries, recordForm } from "./harness.ts";

/** A PII-shaped value where none is expected; named by kind and place, never by value. */
export interface PiiFinding {
  readonly kind: keyof typeof piiKinds;
  readonly location: string;
}

export interface ScanReport {
  readonly planted: number;
  readonly canaryHits: CanaryHit[];
  readonly piiFindings: PiiFinding[];
  readonly scanned: { tables: number; cells: number; files: number; logLines: number };
}

const piiKinds = {
  email: new RegExp(piiShapes.email),
  phone: new RegExp(String.raw`(?<![\w.:/-])${piiShapes.phone}(?![\w.:/-])`),
  insuranceNumber: new RegExp(`(?<![A-Za-z0-9])(?:${piiShapes.insuranceNumber})(?![A-Za-z0-9])`),
  dateOfBirth: /(?<![\w:.-])(?:19|20)\d{2}-\d{2}-\d{2}(?![\w:.-])/,
} as const;

/**
 * Places that hold PII by design and are not scanned for it: the user directory (sign-in e-mails) and
 * the stack's own identity and key files. Canaries are still searched for there.
 */
const piiExpected = [
  /[\\/]cognito[\\/]/,
  /identities\.json$/,
  /[\\/]kms[\\/]/,
  /[\\/]secrets[\\/]/,
  /[\\/]pg[\\/]/,
];

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
function utf8Text(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Machine-made tokens (ids, keys, ciphertext, timestamps) that PII shapes would match by chance. */
const machineTokens = [
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi,
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g,
  /[A-Za-z0-9+/_-]{20,}={0,2}/g,
];

function piiIn(text: string): (keyof typeof piiKinds)[] {
  let plain = text;
  for (const re of machineTokens) plain = plain.replace(re, " ");
  return (Object.keys(piiKinds) as (keyof typeof piiKinds)[]).filter((k) => piiKinds[k].test(plain));
}

/** Plants canaries through the local CloudFront: a new user creates a record, updates it, reads it. */
export async function plantCanaries(info: LocalStackInfo): Promise<Record<string, string>> {
  const { accessToken } = await signUpAndSignIn(info.cognito.endpoint, info.cognito.clientId, {
    email: `scanner-${randomBytes(4).toString("hex")}@users.example.net`,
    password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
  });
  // The browser's protocol: a proof per request, answers sealed to this session's key and opened here.
  const api = createApiClient({ baseUrl: info.edgeUrl });
  const token = accessToken;
  const first = makeCanaries();
  const second = makeCanaries();
  const created = await api.fetch("/api/records", {
    method: "POST",
    token,
    headers: { "content-type": formType },
    body: recordForm(canaryFields(first)),
  });
  if (created.status !== 201) throw new Error(`planting failed: create answered ${created.status}`);
  const { id } = (await created.json()) as { id: string };
  const updated = await api.fetch(`/api/records/${id}`, {
    method: "POST",
    token,
    headers: { "content-type": formType, "if-match": '"1"' },
    body: recordForm(canaryFields(second)),
  });
  if (updated.status !== 200) throw new Error(`planting failed: update answered ${updated.status}`);
  await (await api.fetch(`/api/records/${id}`, { token })).arrayBuffer();
  const prefixed = (c: Record<string, string>, tag: string) =>
    Object.fromEntries(Object.entries(c).map(([k, v]) => [`${tag}.${k}`, v]));
  return { ...prefixed(canaryFields(first), "created"), ...prefixed(canaryFields(second), "updated") };
}

async function piiInDatabase(databaseUrl: string, found: PiiFinding[]) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let tables = 0;
  let cells = 0;
  try {
    const list = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const t of list.rows) {
      tables += 1;
      const ident = `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
      const rows = await client.query(`SELECT * FROM ${ident}`);
      for (const row of rows.rows as Array<Record<string, unknown>>) {
        for (const [column, value] of Object.entries(row)) {
          cells += 1;
          // Timestamps are not text anyone typed; bytes count only when they are text (ciphertext never is).
          const text =
            typeof value === "string" ? value : Buffer.isBuffer(value) ? utf8Text(value) : undefined;
          if (text === undefined) continue;
          for (const kind of piiIn(text))
            found.push({ kind, location: `db:${t.schema}.${t.name}.${column}` });
        }
      }
    }
  } finally {
    await client.end();
  }
  return { tables, cells };
}

async function filesUnder(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return [];
  if (info.isFile()) return [dir];
  if (!info.isDirectory()) return [];
  const out: string[] = [];
  for (const name of await readdir(dir)) out.push(...(await filesUnder(join(dir, name))));
  return out;
}

async function piiInLogs(logDir: string, found: PiiFinding[]): Promise<number> {
  let lines = 0;
  for (const file of await filesUnder(logDir)) {
    const text = await readFile(file, "utf8");
    text.split("\n").forEach((line, i) => {
      if (line === "") return;
      lines += 1;
      for (const kind of piiIn(line)) found.push({ kind, location: `log:${file}:${i + 1}` });
    });
  }
  return lines;
}

/**
 * Scans the stack for the canaries and for PII shapes. Waits a moment first: the running functions
 * write their logs asynchronously.
 */
export async function scanStack(
  info: Pick<LocalStackInfo, "databaseUrl" | "stateDir" | "logDir">,
  canaries: Readonly<Record<string, string>>,
  options: { settleMs?: number } = {},
): Promise<ScanReport> {
  await sleep(options.settleMs ?? 500);
  const canaryHits = [
    ...(await scanDatabase(info.databaseUrl, canaries)),
    ...(await scanFiles([info.stateDir], canaries)),
  ];
  const piiFindings: PiiFinding[] = [];
  const db = await piiInDatabase(info.databaseUrl, piiFindings);
  const logLines = await piiInLogs(info.logDir, piiFindings);
  const files = await filesUnder(info.stateDir);
  for (const file of files) {
    if (file.startsWith(info.logDir) || piiExpected.some((re) => re.test(file))) continue;
    const text = (await readFile(file)).toString("latin1");
    for (const kind of piiIn(text)) piiFindings.push({ kind, location: `file:${file}` });
  }
  return {
    planted: Object.keys(canaries).length,
    canaryHits,
    piiFindings: dedupe(piiFindings),
    scanned: { tables: db.tables, cells: db.cells, files: files.length, logLines },
  };
}

function dedupe(list: PiiFinding[]): PiiFinding[] {
  const seen = new Set<string>();
  return list.filter((f) => {
    const k = `${f.kind}\0${f.location}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
