import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { canaryNeedles, containsAny } from "./needles.ts";

/** Where a canary was found; the canary is named by its label, never by its value. */
export interface CanaryHit {
  readonly canary: string;
  readonly location: string;
}

type Needles = ReadonlyArray<{ label: string; needles: Buffer[] }>;

function prepare(canaries: Readonly<Record<string, string>>): Needles {
  return Object.entries(canaries).map(([label, value]) => ({ label, needles: canaryNeedles(value) }));
}

function match(bytes: Buffer, needles: Needles, location: string, hits: CanaryHit[]) {
  for (const n of needles) if (containsAny(bytes, n.needles)) hits.push({ canary: n.label, location });
}

function asBytes(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return Buffer.from(value.toISOString());
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8");
}

/** Reads every column of every row of every table of the database's non-system schemas. */
export async function scanDatabase(
  databaseUrl: string,
  canaries: Readonly<Record<string, string>>,
): Promise<CanaryHit[]> {
  const needles = prepare(canaries);
  const hits: CanaryHit[] = [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    for (const t of tables.rows) {
      const ident = `"${t.schema.replace(/"/g, '""')}"."${t.name.replace(/"/g, '""')}"`;
      const rows = await client.query(`SELECT * FROM ${ident}`);
      for (const row of rows.rows as Array<Record<string, unknown>>) {
        for (const [column, value] of Object.entries(row))
          match(asBytes(value), needles, `db:${t.schema}.${t.name}.${column}`, hits);
      }
    }
  } finally {
    await client.end();
  }
  return dedupe(hits);
}

/** Reads every file under the folders (state, logs, object stores), byte for byte. */
export async function scanFiles(
  dirs: readonly string[],
  canaries: Readonly<Record<string, string>>,
): Promise<CanaryHit[]> {
  const needles = prepare(canaries);
  const hits: CanaryHit[] = [];
  async function walk(path: string): Promise<void> {
    const info = await stat(path).catch(() => undefined);
    if (!info) return;
    if (info.isDirectory()) {
      for (const name of await readdir(path)) await walk(join(path, name));
    } else if (info.isFile()) {
      match(await readFile(path), needles, `file:${path}`, hits);
    }
  }
  for (const dir of dirs) await walk(dir);
  return dedupe(hits);
}

function dedupe(hits: CanaryHit[]): CanaryHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const k = `${h.canary}\0${h.location}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
