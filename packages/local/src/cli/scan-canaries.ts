// `pnpm scan:canaries`: plants unique canaries through the public API of the running `pnpm dev` stack
// (found through .veil/local.json), then searches every table and column, every file of the state
// folder (object store, KMS state, secrets, logs) and every log line for them, and flags PII-shaped
// values where none is expected. Exit 1 and the locations on any hit.
//   --self   start a throw-away stack of its own instead (embedded PGlite, or DATABASE_URL)
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { plantCanaries, scanStack } from "../proof/scanner.ts";
import { ephemeralPorts, type LocalStackInfo } from "../stack/config.ts";
import { startLocalStack } from "../stack/start.ts";

const self = process.argv.includes("--self");
const stateDir = process.env.VEIL_STATE_DIR ?? resolve(import.meta.dirname, "../../../../.veil");

async function main(): Promise<number> {
  let info: LocalStackInfo;
  let stop = async () => {};
  if (self) {
    const dir = mkdtempSync(join(tmpdir(), "veil-scan-"));
    const stack = await startLocalStack({
      stateDir: dir,
      ports: ephemeralPorts,
      webRoot: dir,
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    });
    info = stack.info;
    stop = async () => {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    };
  } else {
    try {
      info = JSON.parse(readFileSync(join(stateDir, "local.json"), "utf8")) as LocalStackInfo;
    } catch {
      console.error(`No local stack found in ${stateDir}: start it with 'npm run dev', or pass --self.`);
      return 2;
    }
  }
  try {
    console.log(`Planting canaries through ${info.edgeUrl} …`);
    const canaries = await plantCanaries(info);
    const report = await scanStack(info, canaries, { settleMs: 1000 });
    const s = report.scanned;
    console.log(
      `Scanned ${s.tables} tables (${s.cells} cells), ${s.files} files, ${s.logLines} log lines` +
        `${info.s3Endpoint ? " (object store: its state folder)" : ""} for ${report.planted} canaries.`,
    );
    for (const h of report.canaryHits) console.log(`  CANARY ${h.canary} in ${h.location}`);
    for (const f of report.piiFindings) console.log(`  PII    ${f.kind} in ${f.location}`);
    const bad = report.canaryHits.length + report.piiFindings.length;
    console.log(bad === 0 ? "No canary and no stray PII anywhere." : `${bad} finding(s).`);
    return bad === 0 ? 0 : 1;
  } finally {
    await stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`scan failed: ${err instanceof Error ? err.message : "unknown error"}`);
    process.exit(2);
  },
);
