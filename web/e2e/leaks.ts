import type { BrowserContext, Page, Request } from "playwright-core";

/** One request the browser sent, as the leak checks need it. */
export interface SeenRequest {
  readonly url: string;
  readonly method: string;
  readonly contentType: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** Everything the browser exposed that a sensitive value must never reach. */
export interface Observations {
  readonly requests: SeenRequest[];
  readonly console: string[];
  readonly pageErrors: string[];
  /** Addresses the page showed (history.pushState changes no request, so they are sampled). */
  readonly urls: string[];
  /** Dumps of localStorage, sessionStorage and cookies, sampled at each step. */
  readonly storage: string[];
}

/** Starts recording requests, console messages and page errors of `page`. */
export function observe(page: Page): Observations {
  const seen: Observations = { requests: [], console: [], pageErrors: [], urls: [], storage: [] };
  page.on("request", (r: Request) => {
    const headers = r.headers();
    seen.requests.push({
      url: r.url(),
      method: r.method(),
      contentType: headers["content-type"] ?? "",
      body: r.postData() ?? "",
      headers,
    });
  });
  page.on("console", (m) => seen.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => seen.pageErrors.push(e.message));
  return seen;
}

/** Samples the address bar and the browser's storage now. */
export async function sample(page: Page, context: BrowserContext, seen: Observations): Promise<void> {
  seen.urls.push(page.url());
  const stores = await page.evaluate(() => {
    const dump = (s: Storage) => {
      const out: Record<string, string> = {};
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (k !== null) out[k] = s.getItem(k) ?? "";
      }
      return out;
    };
    return JSON.stringify({ local: dump(localStorage), session: dump(sessionStorage) });
  });
  seen.storage.push(stores, JSON.stringify(await context.cookies()));
}

/** The ways a value can be written in a URL, a form body or JSON. */
export function spellings(value: string): string[] {
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  return [...new Set([value, encodeURIComponent(value), form, JSON.stringify(value).slice(1, -1)])];
}

/** Where (if anywhere) any spelling of any canary occurs in `haystack`. */
export function findCanaries(haystack: string, canaries: readonly string[]): string[] {
  return canaries.filter((c) => spellings(c).some((s) => haystack.includes(s)));
}
