/**
 * Parsing of `application/x-www-form-urlencoded` bodies for FLE: pairs in order, each decoded by
 * `URLSearchParams`, with its raw text kept (so a body can be rewritten field by field); duplicates,
 * malformed escapes and oversized bodies refused.
 */
import { fleLimits } from "@veil/core";
import { FleFormatError, safeFieldName } from "../errors.ts";

/** One `name=value` pair of a body, decoded, with its raw (still encoded) text. */
export interface FormPair {
  /** The whole `name=value` segment as received. */
  readonly raw: string;
  readonly rawName: string;
  readonly name: string;
  /** The value as a form decoder reads it (`+` is a space, escapes decoded). */
  readonly value: string;
}

/** More pairs than any form of ours can have; refuses bodies built to burn CPU. */
export const maxFormPairs = 256;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A `%` not followed by two hex digits: `URLSearchParams` would keep it as text; refused instead. */
const badEscape = /%(?![0-9A-Fa-f]{2})/;

/** Splits a body into decoded pairs. Throws `FleFormatError` when it is too large, not UTF-8, or ambiguous. */
export function parseFormPairs(body: string | Uint8Array): FormPair[] {
  let text: string;
  if (typeof body === "string") {
    text = body;
    if (Buffer.byteLength(text, "utf8") > fleLimits.maxBodyBytes) throw new FleFormatError("tooLarge");
  } else {
    if (body.byteLength > fleLimits.maxBodyBytes) throw new FleFormatError("tooLarge");
    try {
      text = strictUtf8.decode(body);
    } catch {
      throw new FleFormatError("notUtf8");
    }
  }
  if (badEscape.test(text)) throw new FleFormatError("badPercentEncoding");
  const pairs: FormPair[] = [];
  const seen = new Set<string>();
  for (const raw of text.split("&")) {
    if (raw === "") continue;
    if (pairs.length >= maxFormPairs) throw new FleFormatError("tooManyFields");
    // One segment holds exactly one pair: URLSearchParams splits on "&" only.
    const [[name, value]] = [...new URLSearchParams(raw)] as [[string, string]];
    if (name === "") throw new FleFormatError("emptyName");
    if (seen.has(name)) throw new FleFormatError("duplicateField", safeFieldName(name));
    seen.add(name);
    const eq = raw.indexOf("=");
    pairs.push({ raw, rawName: eq === -1 ? raw : raw.slice(0, eq), name, value });
  }
  return pairs;
}
