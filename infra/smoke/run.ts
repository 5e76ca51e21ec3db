/**
 * Runs the smoke checks (checks.ts) with an injected `fetch`. Sends a throw-away record with made-up
 * values only; never prints a response body.
 */
import { fleContentType, headers as headerNames } from "@veil/core";
import {
  judgeBodyGuard,
  judgeDirect,
  judgeFleCreate,
  judgeFleRead,
  judgeProofRequired,
  judgeRuntimeConfig,
  judgeSignedChain,
  judgeSiteHeaders,
  type Observed,
  type SmokeTarget,
  type Verdict,
} from "./checks.ts";

export type Fetch = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{
  status: number;
  headers: { forEach(cb: (value: string, key: string) => void): void };
  text(): Promise<string>;
}>;

async function observe(fetch: Fetch, url: string, init?: Parameters<Fetch>[1]): Promise<Observed> {
  const r = await fetch(url, init);
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    headers[k.toLowerCase()] = v;
  });
  return { status: r.status, headers, body: await r.text() };
}

/** Made-up record values, unique per run so the read-back cannot match an older record. */
export function smokeRecord(runId: string): Record<string, string> {
  return {
    category: "general",
    fullName: `Smoke Test ${runId}`,
    dateOfBirth: "1980-01-01",
    notes: `smoke ${runId}`,
  };
}

export interface SmokeOptions {
  readonly fetch: Fetch;
  readonly target: SmokeTarget;
  /** A Cognito ID token of a test user; without it the round trip is reported as not run (failed). */
  readonly token?: string;
  /**
   * Sends the signed-in calls as the browser does: a DPoP proof of one session's key per request, and
   * sealed answers opened (refused when not sealed to that key and proof). The CLI passes the Node API
   * client's; without it those calls go out as plain `fetch` and fail on a stage that requires proofs.
   */
  readonly apiFetch?: Fetch;
  readonly runId: string;
}

/** Runs every check in order and returns the verdicts. */
export async function runSmoke(o: SmokeOptions): Promise<Verdict[]> {
  const { fetch, target } = o;
  const verdicts: Verdict[] = [];
  const records = `${target.apiBase}/api/records`;
  verdicts.push(judgeDirect("API direct, no key, no signature", await observe(fetch, records)));
  verdicts.push(
    judgeDirect(
      "API direct, key header but no signature",
      await observe(fetch, records, { headers: { [headerNames.apiKey]: "smoke-not-a-key" } }),
    ),
  );
  verdicts.push(judgeSiteHeaders(await observe(fetch, `${target.url}/`)));
  verdicts.push(judgeRuntimeConfig(await observe(fetch, `${target.url}/config.json`)));
  verdicts.push(judgeSignedChain(await observe(fetch, `${target.url}/api/records`)));
  verdicts.push(
    judgeBodyGuard(
      await observe(fetch, `${target.url}/api/records`, {
        method: "POST",
        headers: { "content-type": `${fleContentType}; charset=UTF-8` },
        body: new URLSearchParams(smokeRecord(o.runId)).toString(),
      }),
    ),
  );

  if (!o.token) {
    verdicts.push({
      name: "FLE round trip",
      ok: false,
      detail: "not run: set VEIL_SMOKE_TOKEN to a test user's ID token",
    });
    return verdicts;
  }
  const auth = { authorization: `Bearer ${o.token}` };
  const apiFetch = o.apiFetch ?? fetch;
  verdicts.push(judgeProofRequired(await observe(fetch, `${target.url}/api/records`, { headers: auth })));
  const record = smokeRecord(o.runId);
  const created = judgeFleCreate(
    await observe(apiFetch, `${target.url}/api/records`, {
      method: "POST",
      headers: { ...auth, "content-type": fleContentType },
      body: new URLSearchParams(record).toString(),
    }),
  );
  verdicts.push(created);
  if (!created.id) return verdicts;
  const { category: _category, ...sensitive } = record;
  const url = `${target.url}/api/records/${encodeURIComponent(created.id)}`;
  verdicts.push(judgeFleRead(await observe(apiFetch, url, { headers: auth }), sensitive));
  // Clean up; the verdicts above stand whatever this answers.
  await observe(apiFetch, url, { method: "DELETE", headers: { ...auth, "if-match": '"1"' } }).catch(
    () => undefined,
  );
  return verdicts;
}
