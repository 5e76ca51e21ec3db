/**
 * Reads the vendored SigV4 test-suite files (see fixtures/README.md) into requests for the verifier.
 * Test support only; not exported from the package.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SigV4Request } from "./verify.ts";

/** Parses a raw HTTP/1.1 request as the suites write it (LF line ends, folded header lines allowed). */
export function parseRawRequest(text: string): SigV4Request & { headers: Record<string, string[]> } {
  const normalized = text.replace(/\r\n/g, "\n");
  const blank = normalized.indexOf("\n\n");
  const head = blank < 0 ? normalized.replace(/\n$/, "") : normalized.slice(0, blank);
  const body = blank < 0 ? "" : normalized.slice(blank + 2);
  const [requestLine = "", ...lines] = head.split("\n");
  // The target may contain raw spaces (`/example space/`), so split on the first and last space only.
  const method = requestLine.slice(0, requestLine.indexOf(" "));
  const url = requestLine.slice(requestLine.indexOf(" ") + 1, requestLine.lastIndexOf(" "));
  const headers: Record<string, string[]> = {};
  let last: string[] | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line) && last !== undefined) {
      last[last.length - 1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    last = headers[name] ??= [];
    last.push(line.slice(colon + 1));
  }
  return { method, url, headers, body: Buffer.from(body, "utf8") };
}

/** Every folder under `root` (recursively) that contains a file named by `marker(folder)`. */
export function vectorFolders(root: string, marker: (name: string) => string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (!statSync(path).isDirectory()) continue;
      const relPath = rel === "" ? name : `${rel}/${name}`;
      if (readdirSync(path).includes(marker(name))) found.push(relPath);
      walk(path, relPath);
    }
  };
  walk(root, "");
  return found;
}

/** Reads a fixture file as UTF-8. */
export function readFixture(...parts: string[]): string {
  return readFileSync(join(...parts), "utf8");
}
