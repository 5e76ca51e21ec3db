// `pnpm veil <command>`: tools for the curious, against the running local stack (.veil/local.json).
//   inspect <record id>   what a DBA sees: the raw row, the ciphertext, the audit trail
//   tables                every table with its row count
//   restore-image <image id> [--version <version id>]
//                         copy an earlier version of an image's stored object back on top
//   recover <record id> [--images] [--out <dir>] [AWS flags]
//                         decrypt a record (and its images) with the stock Encryption SDK: recover.ts
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pg from "pg";
import { describeRestore, readS3Info, restoreImage } from "../s3/index.ts";
import type { LocalStackInfo } from "../stack/config.ts";
import { parseRecoverArgs, recoverUsage, runRecover } from "./recover.ts";

const stateDir = process.env.VEIL_STATE_DIR ?? resolve(import.meta.dirname, "../../../../.veil");
function stackInfo(): LocalStackInfo {
  try {
    return JSON.parse(readFileSync(join(stateDir, "local.json"), "utf8")) as LocalStackInfo;
  } catch {
    console.error(`No local stack found in ${stateDir}: start it with 'npm run dev' first.`);
    process.exit(1);
  }
}

function hexdump(bytes: Buffer, max = 96): string {
  const lines: string[] = [];
  for (let i = 0; i < Math.min(bytes.length, max); i += 16) {
    const chunk = bytes.subarray(i, Math.min(i + 16, max, bytes.length));
    const ascii = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(
      `  ${i.toString(16).padStart(4, "0")}  ${chunk.toString("hex").replace(/(..)/g, "$1 ").padEnd(48)} ${ascii}`,
    );
  }
  if (bytes.length > max) lines.push(`  … ${bytes.length - max} more bytes`);
  return lines.join("\n");
}

async function restore(args: string[]) {
  const [imageId, flag, versionId] = args;
  if (!imageId || (flag !== undefined && (flag !== "--version" || !versionId))) {
    console.log("usage: pnpm veil restore-image <image id> [--version <version id>]");
    process.exit(2);
  }
  const result = await restoreImage({
    s3: await readS3Info(stateDir),
    databaseUrl: stackInfo().databaseUrl,
    imageId,
    ...(versionId ? { versionId } : {}),
  });
  console.log(describeRestore(result));
}

async function recover(args: string[]) {
  let parsed: ReturnType<typeof parseRecoverArgs>;
  try {
    parsed = parseRecoverArgs(args);
  } catch (err) {
    console.error(`${(err as Error).message}\n${recoverUsage}`);
    process.exit(2);
  }
  const { record, files } = await runRecover(parsed, { stateDir, log: (line) => console.error(line) });
  if (files.length === 0) console.log(JSON.stringify(record, null, 2));
}

async function main() {
  const [command, arg] = process.argv.slice(2);
  if (command === "restore-image") return restore(process.argv.slice(3));
  if (command === "recover") return recover(process.argv.slice(3));
  if (command !== "inspect" && command !== "tables") {
    console.log(
      "usage: pnpm veil inspect <record id> | pnpm veil tables | pnpm veil restore-image <image id> [--version <id>]\n" +
        "     | pnpm veil recover <record id> [--images] [--out <dir>] (see docs/recovery.md)",
    );
    process.exit(command ? 2 : 0);
  }
  const info = stackInfo();
  const client = new pg.Client({ connectionString: info.databaseUrl });
  await client.connect();
  try {
    if (command === "tables") {
      const { rows } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      for (const { table_name } of rows) {
        const count = await client.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM "${table_name.replace(/"/g, '""')}"`,
        );
        console.log(`${table_name.padEnd(24)} ${count.rows[0]?.n ?? "?"} rows`);
      }
      return;
    }
    if (!arg) throw new Error("usage: pnpm veil inspect <record id>");
    const { rows } = await client.query("SELECT * FROM records WHERE id::text = $1", [arg]);
    const row = rows[0] as Record<string, unknown> | undefined;
    if (!row) {
      console.log(`No record ${arg}.`);
      process.exitCode = 1;
      return;
    }
    console.log("The row, exactly as stored (this is all a DBA or a database snapshot holds):\n");
    for (const [k, v] of Object.entries(row)) {
      if (Buffer.isBuffer(v))
        console.log(`${k}: ${v.length} bytes (AWS Encryption SDK message)\n${hexdump(v)}`);
      else console.log(`${k}: ${v instanceof Date ? v.toISOString() : String(v)}`);
    }
    const audit = await client.query(
      "SELECT action, actor, request_id, at FROM audit_events WHERE record_id::text = $1 ORDER BY id",
      [arg],
    );
    console.log("\nAudit trail:");
    for (const a of audit.rows as Array<Record<string, unknown>>) {
      console.log(
        `  ${(a.at as Date).toISOString()}  ${String(a.action).padEnd(7)} by ${String(a.actor)}  request ${String(a.request_id)}`,
      );
    }
    console.log(
      "\nThe sensitive fields exist only inside the ciphertext. Its data key is wrapped by the KMS key, which only the\n" +
        "records function's role may use: neither this tool, nor the database, nor a developer can decrypt it.",
    );
  } finally {
    await client.end();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : "failed");
  process.exit(1);
});
