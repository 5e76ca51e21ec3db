import { headers } from "@veil/core";
import { isSensitiveKey, REDACTED } from "./keys.ts";
import { maxTextLength, redactPlainText } from "./text.ts";

/** Bounds that keep redaction cheap and total on hostile input. */
export const redactLimits = { maxDepth: 16, maxArrayItems: 200, maxKeys: 200 } as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type KeyVerdict = "ok" | "hideValue" | "hideBoth";
const keyVerdicts = new Map<string, KeyVerdict>();

/**
 * A key naming a sensitive field or credential keeps its name and loses its value; a key that is itself
 * personal data (an e-mail address used as a map key) loses both.
 */
function keyVerdict(key: string): KeyVerdict {
  let v = keyVerdicts.get(key);
  if (v === undefined) {
    v = redactPlainText(key) !== key ? "hideBoth" : isSensitiveKey(key) ? "hideValue" : "ok";
    if (keyVerdicts.size < 10_000) keyVerdicts.set(key, v);
  }
  return v;
}

/** Header names whose values are credentials, as they appear in flat lists like Node's `rawHeaders`. */
const credentialHeaders = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-amz-security-token",
  headers.apiKey,
  headers.identity,
]);

function isCredentialHeader(item: unknown): boolean {
  return typeof item === "string" && item.length < 64 && credentialHeaders.has(item.toLowerCase());
}

function looksLikeJson(text: string): boolean {
  const t = text.trimStart();
  return (t.startsWith("{") || t.startsWith("[") || t.startsWith('"')) && text.length <= maxTextLength;
}

function redactString(text: string, depth: number, path: Set<object>): string {
  if (looksLikeJson(text)) {
    try {
      return JSON.stringify(walk(JSON.parse(text), depth + 1, path));
    } catch {
      // Not JSON after all: the text rules below still apply.
    }
  }
  return redactPlainText(text);
}

function isBinary(value: object): value is ArrayBufferView | ArrayBuffer | Blob {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    value instanceof SharedArrayBuffer ||
    (typeof Blob !== "undefined" && value instanceof Blob)
  );
}

function byteLength(value: ArrayBufferView | ArrayBuffer | Blob): number {
  return "size" in value ? value.size : value.byteLength;
}

function codeLocation(stack: unknown): string | undefined {
  if (typeof stack !== "string") return undefined;
  const m = /\(([^()\n]*?):(\d+):\d+\)/.exec(stack);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

function redactEntries(
  entries: Iterable<readonly [string, unknown]>,
  depth: number,
  path: Set<object>,
): Record<string, Json> {
  const out: Record<string, Json> = {};
  let n = 0;
  for (const [key, value] of entries) {
    if (n++ >= redactLimits.maxKeys) {
      out["[more keys]"] = true;
      break;
    }
    if (value === undefined || typeof value === "function") continue;
    const verdict = keyVerdict(key);
    if (verdict === "ok") out[key] = walk(value, depth + 1, path);
    else out[verdict === "hideBoth" ? REDACTED : key] = REDACTED;
  }
  return out;
}

function ownEntries(value: object): Array<[string, unknown]> {
  const entries: Array<[string, unknown]> = [];
  for (const key of Object.keys(value)) {
    try {
      entries.push([key, (value as Record<string, unknown>)[key]]);
    } catch {
      entries.push([key, "[unreadable]"]);
    }
  }
  return entries;
}

function redactError(error: Error, depth: number, path: Set<object>): Record<string, Json> {
  const out: Record<string, Json> = {
    name: redactPlainText(String(error.name)),
    location: codeLocation(error.stack) ?? null,
    // `message` and `stack` are not field names: redacted as text, never dropped wholesale.
    message: redactPlainText(String(error.message)),
    stack: typeof error.stack === "string" ? redactPlainText(error.stack) : null,
  };
  const more: Array<[string, unknown]> = [];
  if ("cause" in error) more.push(["cause", error.cause]);
  if (error instanceof AggregateError) more.push(["errors", error.errors]);
  const known = new Set(["name", "message", "stack", "cause", "errors"]);
  for (const entry of ownEntries(error)) if (!known.has(entry[0])) more.push(entry);
  return Object.assign(out, redactEntries(more, depth, path));
}

function walk(value: unknown, depth: number, path: Set<object>): Json {
  switch (typeof value) {
    case "string":
      return redactString(value, depth, path);
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
    case "symbol":
      return redactPlainText(String(value));
    case "undefined":
    case "function":
      return null;
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth > redactLimits.maxDepth) return "[too deep]";
  if (path.has(obj)) return "[circular]";
  if (isBinary(obj)) return `[binary ${byteLength(obj)} bytes]`;
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? "Invalid Date" : obj.toISOString();
  if (obj instanceof RegExp) return redactPlainText(String(obj));
  if (obj instanceof URL) return redactPlainText(obj.href);
  path.add(obj);
  try {
    if (obj instanceof Error) return redactError(obj, depth, path);
    if (Array.isArray(obj)) {
      const items = obj
        .slice(0, redactLimits.maxArrayItems)
        .map((v, i) => (isCredentialHeader(obj[i - 1]) ? REDACTED : walk(v, depth + 1, path)));
      if (obj.length > redactLimits.maxArrayItems)
        items.push(`[${obj.length - redactLimits.maxArrayItems} more items]`);
      return items;
    }
    if (obj instanceof Set) return walk([...obj], depth, path);
    if (obj instanceof Map)
      return redactEntries(
        [...obj].map(([k, v]) => [String(k), v] as const),
        depth,
        path,
      );
    if (obj instanceof URLSearchParams || (typeof Headers !== "undefined" && obj instanceof Headers)) {
      return redactEntries(obj.entries(), depth, path);
    }
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return walk(toJSON.call(obj), depth + 1, path);
    return redactEntries(ownEntries(obj), depth, path);
  } catch {
    return "[unserializable]";
  } finally {
    path.delete(obj);
  }
}

/**
 * Returns a JSON-safe copy of `value` in which every secret and every piece of personal data is
 * replaced by `"[REDACTED]"`: values under keys of the classification's sensitive fields or credential
 * headers (at any depth, in arrays, Maps, URLSearchParams, Headers, Error properties and `cause`
 * chains), and secrets or PII shapes inside any string (see `redactText`). Strings holding JSON are
 * parsed and redacted structurally. Never throws: cycles, BigInt, binary data (logged as its size
 * only), getters that throw and very deep nesting are all rendered as short markers.
 */
export function redact(value: unknown): unknown {
  try {
    return walk(value, 0, new Set());
  } catch {
    return REDACTED;
  }
}

/**
 * Redacts one piece of text: a JSON document is redacted structurally; any other text has
 * credentials, sensitive key/value pairs (query strings, form bodies, headers, JSON fragments) and
 * e-mail addresses, phone and insurance numbers replaced by `"[REDACTED]"`. Never throws.
 */
export function redactText(text: string): string {
  try {
    return redactString(String(text), 0, new Set());
  } catch {
    return REDACTED;
  }
}
