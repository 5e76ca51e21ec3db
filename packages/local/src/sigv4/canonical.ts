/**
 * The pieces of a SigV4 canonical request, built from the request as received. Every function returns
 * `undefined` for input it cannot canonicalise (broken escapes, lone surrogates) so the verifier can
 * reject rather than guess.
 */
import { percentDecode, uriEncode } from "./encoding.ts";

/** How the path is canonicalised. Non-S3 services use both; S3 uses neither. */
export interface PathRules {
  /** Remove `.`/`..` segments and empty segments (`//`). */
  readonly normalize: boolean;
  /**
   * Encode the path as received once more (`%20` → `%2520`). Non-S3 signers escape the already-encoded
   * path, so a verifier must do the same; S3 signs the path encoded exactly once.
   */
  readonly doubleEncode: boolean;
}

/** Canonical URI of a raw, still-encoded request path. */
export function canonicalPath(rawPath: string, rules: PathRules): string | undefined {
  let path = rawPath === "" ? "/" : rawPath;
  if (rules.normalize) {
    const kept: string[] = [];
    for (const segment of path.split("/")) {
      if (segment === "" || segment === ".") continue;
      if (segment === "..") kept.pop();
      else kept.push(segment);
    }
    // A trailing slash is meaningful to the origin, so it survives normalisation (as in the AWS SDKs).
    path = `/${kept.join("/")}${kept.length > 0 && path.endsWith("/") ? "/" : ""}`;
  }
  const encoded: string[] = [];
  for (const segment of path.split("/")) {
    const value = rules.doubleEncode ? segment : percentDecode(segment);
    if (value === undefined) return undefined;
    const escaped = safeUriEncode(value);
    if (escaped === undefined) return undefined;
    encoded.push(escaped);
  }
  return encoded.join("/");
}

/**
 * Splits a raw query string into decoded `[name, value]` pairs, in order. `+` is read as a space, like
 * API Gateway does (a `+` from `URLSearchParams` is signed as `%20`); a literal plus arrives as `%2B`.
 */
export function parseQuery(rawQuery: string): Array<[string, string]> | undefined {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true);
    const value = percentDecode(eq < 0 ? "" : part.slice(eq + 1), true);
    if (name === undefined || value === undefined) return undefined;
    pairs.push([name, value]);
  }
  return pairs;
}

/** Canonical query string: each name and value SigV4-encoded, sorted by name then value. */
export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>): string | undefined {
  const encoded: Array<[string, string]> = [];
  for (const [name, value] of pairs) {
    const n = safeUriEncode(name);
    const v = safeUriEncode(value);
    if (n === undefined || v === undefined) return undefined;
    encoded.push([n, v]);
  }
  encoded.sort(([an, av], [bn, bv]) => compare(an, bn) || compare(av, bv));
  return encoded.map(([n, v]) => `${n}=${v}`).join("&");
}

/** Header values as received, keyed by lower-case name; repeated headers keep every value in order. */
export type HeaderMap = ReadonlyMap<string, readonly string[]>;

/** Collects headers given in any case, each value a string or a list of strings. */
export function headerMap(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
): HeaderMap {
  const map = new Map<string, string[]>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    const list = map.get(key) ?? [];
    if (typeof value === "string") list.push(value);
    else list.push(...value);
    map.set(key, list);
  }
  return map;
}

/** One canonical header value: each value trimmed, inner whitespace runs (incl. folded lines) collapsed. */
export function canonicalHeaderValue(values: readonly string[]): string {
  return values.map((v) => v.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "").replace(/[ \t\r\n]+/g, " ")).join(",");
}

/** The full canonical request; `signedHeaders` must already be sorted, lower-case and present. */
export function canonicalRequest(parts: {
  method: string;
  path: string;
  query: string;
  headers: HeaderMap;
  signedHeaders: readonly string[];
  payloadHash: string;
}): string {
  const lines = parts.signedHeaders.map(
    (name) => `${name}:${canonicalHeaderValue(parts.headers.get(name) ?? [])}\n`,
  );
  return [
    parts.method,
    parts.path,
    parts.query,
    lines.join(""),
    parts.signedHeaders.join(";"),
    parts.payloadHash,
  ].join("\n");
}

function safeUriEncode(value: string): string | undefined {
  try {
    return uriEncode(value);
  } catch {
    return undefined; // lone surrogate
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
