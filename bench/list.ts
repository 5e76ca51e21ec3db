/**
 * The records list through a fresh local stack (real PostgreSQL, the functions' bundles, the local
 * CloudFront), as the browser uses it: one user with 1,000 records and the Node API client (DPoP
 * proofs, sealed answers opened and checked).
 *
 * - `list_page_names_vs_metadata`: a page of 50 with names (one decrypt per record, one audit batch)
 *   ÷ the same page `view=metadata`, median of interleaved requests.
 * - `search_1000_ms`: every `view=search` page of the 1,000 records (100 a page, one after the other)
 *   loaded and searched in memory with the web app's search module, median of several rounds.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createApiClient, rawAnswer } from "../packages/local/src/client/index.ts";
import { signUpAndSignIn } from "../packages/local/src/cognito/client.ts";
import { buildSearchIndex, loadAllForSearch } from "../web/src/records-search.ts";
import { recordForm } from "./_load-client.ts";
import { freshStack } from "./_local-stack.ts";
import { median, round } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const recordCount = 1_000;
const pageSize = 50;

/** A timed request: when it was sent and answered (wall clock), and what it asked for. */
interface Window {
  readonly from: number;
  readonly to: number;
  readonly kind: "names" | "metadata";
}

/**
 * The records function's own duration (`ms` of its request log line) of each timed list request,
 * matched by time: the requests went one at a time, so each line falls into one request's window.
 */
function inFunction(logFile: string, windows: readonly Window[]): Record<Window["kind"], number[]> {
  const out: Record<Window["kind"], number[]> = { names: [], metadata: [] };
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    if (!line.includes('"GET /api/records"')) continue;
    try {
      const entry = JSON.parse(line) as { ms?: number; status?: number; timestamp?: string };
      const at = Date.parse(entry.timestamp ?? "");
      const hit = windows.find((w) => at >= w.from && at <= w.to);
      if (hit && entry.status === 200 && typeof entry.ms === "number") out[hit.kind].push(entry.ms);
    } catch {
      // not a request line
    }
  }
  return out;
}

const bench: BenchModule = {
  name: "list",
  description:
    "records list through the local stack: a page with names vs metadata; loading and searching 1,000",
  async run({ quick, log }) {
    const target = await freshStack(log);
    try {
      const { edgeUrl, cognito } = target.info;
      const tokens = await signUpAndSignIn(cognito.endpoint, cognito.clientId, {
        email: `list-${randomBytes(4).toString("hex")}@users.example.net`,
        password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
      });
      const token = tokens.accessToken;
      // Answers are opened whenever they arrive sealed; whether they did is reported with the figures.
      const api = createApiClient({ baseUrl: edgeUrl, mustBeSealed: () => false });
      let sealed = true;
      const get = async <T>(path: string): Promise<T> => {
        for (;;) {
          const res = await api.fetch(path, { token });
          if (res.status === 429) {
            await new Promise((r) => setTimeout(r, 25));
            continue;
          }
          if (res.status !== 200) throw new Error(`GET ${path.split("?")[0]}: ${res.status}`);
          const type = rawAnswer(res)?.headers.get("content-type") ?? "";
          if (!type.startsWith("application/vnd.veil.sealed")) sealed = false;
          return (await res.json()) as T;
        }
      };

      // The session's first request binds its proof key; the concurrent creates come after it.
      await get("/api/records?view=metadata&limit=1");
      log(`creating ${recordCount} records of one user…`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < recordCount) {
            const n = next++;
            for (;;) {
              const res = await api.fetch("/api/records", {
                method: "POST",
                token,
                headers: { "content-type": "application/x-www-form-urlencoded" },
                body: recordForm(n),
              });
              await res.arrayBuffer();
              if (res.status === 201) break;
              if (res.status !== 429) throw new Error(`create: ${res.status}`);
              await new Promise((r) => setTimeout(r, 25));
            }
          }
        }),
      );

      const rounds = quick ? 10 : 40;
      log(`a page of ${pageSize}, with names and metadata only, ${rounds} interleaved rounds…`);
      const windows: Window[] = [];
      const timed = async (path: string, kind: Window["kind"]) => {
        const from = Date.now();
        const started = performance.now();
        const page = await get<{ items: unknown[] }>(path);
        if (page.items.length !== pageSize) throw new Error(`${path}: ${page.items.length} items`);
        const ms = performance.now() - started;
        windows.push({ from, to: Date.now(), kind });
        return ms;
      };
      const names: number[] = [];
      const metadata: number[] = [];
      for (let i = -2; i < rounds; i++) {
        const a = await timed(`/api/records?limit=${pageSize}`, "names");
        const b = await timed(`/api/records?view=metadata&limit=${pageSize}`, "metadata");
        if (i >= 0) names.push(a);
        if (i >= 0) metadata.push(b);
      }

      const searchRounds = quick ? 3 : 9;
      log(`loading and searching all ${recordCount} records, ${searchRounds} rounds…`);
      const loads: number[] = [];
      const filters: number[] = [];
      for (let i = -1; i < searchRounds; i++) {
        const started = performance.now();
        const { items, complete } = await loadAllForSearch(
          (cursor, limit) =>
            get<{ items: []; nextCursor?: string }>(
              `/api/records?view=search&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
            ),
          { pageSize: 100 },
        );
        const loaded = performance.now();
        const hits = buildSearchIndex(items).search("load patient 512");
        const done = performance.now();
        if (!complete || items.length !== recordCount || hits.length !== 1) {
          throw new Error(`search: ${items.length} records, ${hits.length} hits`);
        }
        if (i >= 0) loads.push(done - started);
        if (i >= 0) filters.push(done - loaded);
      }

      const handler = inFunction(join(target.info.logDir, "records.log"), windows);
      const namesMs = median(names);
      const metadataMs = median(metadata);
      const how = sealed ? "sealed answers" : "answers NOT sealed (no sealing in this build)";
      const figures: Record<string, Metric> = {
        list_page_names_vs_metadata: {
          value: round(namesMs / metadataMs, 2),
          unit: "×",
          note: `GET /api/records?limit=${pageSize} with names ÷ view=metadata, medians of ${rounds}, local CloudFront, ${how}`,
        },
        list_page_names_ms: {
          value: round(namesMs, 1),
          unit: "ms",
          note: `a page of ${pageSize} with names: ${pageSize} decrypts + one audit batch, median`,
        },
        list_page_metadata_ms: {
          value: round(metadataMs, 1),
          unit: "ms",
          note: "the same page, view=metadata, median",
        },
        ...(handler.names.length > 0 && handler.metadata.length > 0
          ? {
              list_page_names_in_function_ms: {
                value: round(median(handler.names), 1),
                unit: "ms",
                note: "the page with names inside the records function (its request log), median",
              },
              list_page_metadata_in_function_ms: {
                value: round(median(handler.metadata), 1),
                unit: "ms",
                note: "the metadata page inside the records function, median",
              },
            }
          : {}),
        search_1000_ms: {
          value: round(median(loads), 0),
          unit: "ms",
          note: `${recordCount} records of one user: 10 view=search pages of 100 in sequence + in-memory search, median of ${searchRounds}, ${how}`,
        },
        search_1000_filter_ms: {
          value: round(median(filters), 2),
          unit: "ms",
          note: `of which: indexing and searching the ${recordCount} records in memory`,
        },
      };
      return figures;
    } finally {
      await target.stop();
    }
  },
};

export default bench;
