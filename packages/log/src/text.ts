import { piiScrubber } from "@veil/core";
import { isSensitiveKey, REDACTED } from "./keys.ts";

/** Longest string scanned; the rest is cut so that no pattern ever runs on unbounded input. */
export const maxTextLength = 32_768;

const pemPrivateKey =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;
const pgKeyDetail = /\bKey \(([^)]{0,512})\)=\((?:[^()]|\([^()]*\)){0,2048}\)/g;
const authScheme = /\b(Bearer|Basic|Digest)\s+[^\s,;"']+/gi;
const jwt = /\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const awsAccessKeyId = /(?<![A-Z0-9])(?:AKIA|ASIA|AIDA|AROA|AIPA|ANPA|ANVA|AGPA)[A-Z0-9]{16}(?![A-Z0-9])/g;
// 40 characters of base64 (an AWS secret access key) or a long base64 run (keys, ciphertexts, tokens).
const base64Run = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{40,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const pii = piiScrubber();

/** Mixed upper, lower and digits: keeps hex digests and long identifiers, catches secrets. */
function looksRandom(s: string): boolean {
  return /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s);
}

/** Secrets and PII shapes found anywhere in a text, regardless of context. */
function redactShapes(text: string): string {
  return text
    .replace(pemPrivateKey, REDACTED)
    .replace(pgKeyDetail, (_m, cols: string) => `Key (${cols})=(${REDACTED})`)
    .replace(authScheme, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(jwt, REDACTED)
    .replace(awsAccessKeyId, REDACTED)
    .replace(base64Run, (m) => (looksRandom(m) ? REDACTED : m))
    .replace(pii, REDACTED);
}

function decodeFormValue(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

// A key followed by `=` (query strings, form bodies, env dumps) or `:` (JSON, headers, inspect output).
const keyThenSeparator = /(?<![\w.%[\]-])(\\?["']?)([A-Za-z_%][\w.%[\]-]{0,127})\1[ \t]*([:=])[ \t]*/g;

/** Index just past a quoted string starting at `start` (quote char at `start`), escapes respected. */
function endOfQuoted(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i + 1;
  }
  return text.length;
}

/** Index just past a balanced `{...}` or `[...]` starting at `start`, strings respected. */
function endOfBracketed(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") i = endOfQuoted(text, i) - 1;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return text.length;
}

function endOfUnquoted(text: string, start: number, stop: RegExp, limit = text.length): number {
  const end = Math.min(limit, text.length);
  let i = start;
  while (i < end && !stop.test(text[i] as string)) i++;
  return i;
}

/** Where the value after a separator ends, by its first character and the separator. */
function endOfValue(text: string, start: number, sep: string, keyQuoted: boolean): number {
  const first = text[start];
  if (first === '"' || first === "'") return endOfQuoted(text, start);
  if (first === "\\" && text[start + 1] === '"') return endOfQuoted(text, start + 1);
  if (sep === "=") return endOfUnquoted(text, start, /[&\s#;"']/);
  if (first === "{" || first === "[") return endOfBracketed(text, start);
  return endOfUnquoted(text, start, keyQuoted ? /[,\r\n}\]]/ : /[\r\n}\]]/);
}

/** Longest form value that is percent-decoded to look for PII shapes hidden by the encoding. */
const maxDecodedValue = 512;

/** True when an url-encoded value decodes to something with a PII or secret shape. */
function encodedShape(text: string, start: number): boolean {
  const end = endOfUnquoted(text, start, /[&\s#;"'=%+]/, start + maxDecodedValue);
  // Plain values are caught by the shape rules later on; only encoded ones need decoding here.
  if (text[end] !== "%" && text[end] !== "+") return false;
  const value = text.slice(start, endOfUnquoted(text, start, /[&\s#;"'=]/, start + maxDecodedValue));
  const decoded = decodeFormValue(value);
  return decoded !== value && redactShapes(decoded) !== decoded;
}

/**
 * Redacts the values of sensitive keys in key/value text: `?email=…&x=1`, `fullName=…&dateOfBirth=…`,
 * `"notes": "…"`, `authorization: Bearer …`, and form values that decode to a PII shape. Values of
 * other keys are not skipped but scanned too (they may hold nested pairs). Linear in the text length.
 */
function redactPairs(text: string): string {
  let out = "";
  let copied = 0;
  keyThenSeparator.lastIndex = 0;
  for (let m = keyThenSeparator.exec(text); m !== null; m = keyThenSeparator.exec(text)) {
    const [whole, quote = "", rawKey = "", sep = ""] = m;
    const valueStart = m.index + whole.length;
    const sensitive =
      isSensitiveKey(decodeFormValue(rawKey)) || (sep === "=" && encodedShape(text, valueStart));
    if (!sensitive) continue;
    const valueEnd = endOfValue(text, valueStart, sep, quote !== "");
    if (valueEnd === valueStart) continue;
    const first = text[valueStart];
    const quoted = first === '"' || first === "'" || first === "\\";
    out += text.slice(copied, valueStart) + (quoted ? `"${REDACTED}"` : REDACTED);
    copied = valueEnd;
    keyThenSeparator.lastIndex = valueEnd;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * Redacts secrets and personal data from free text without parsing it as JSON: credentials (JWTs,
 * PEM private keys, AWS keys, `Bearer`/`Basic` tokens, long base64 runs), values of sensitive keys
 * in query strings, form bodies, headers and JSON fragments, and e-mail addresses, phone and insurance
 * numbers anywhere. Text beyond `maxTextLength` is cut off.
 */
export function redactPlainText(text: string): string {
  const bounded =
    text.length > maxTextLength
      ? `${text.slice(0, maxTextLength)}…[${text.length - maxTextLength} chars cut]`
      : text;
  return redactShapes(redactPairs(bounded));
}
