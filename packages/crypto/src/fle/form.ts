/**
 * Parsing of `application/x-www-form-urlencoded` bodies for FLE: pairs in order, raw text kept (so a
 * body can be rewritten field by field), duplicates and malformed escapes refused.
 */
import { fleLimits } from "@veil/core";
import { FleFormatError, safeFieldName } from "../errors.ts";

/** One `name=value` pair of a body, with its raw (still encoded) text. */
export interface FormPair {
  /** The whole `name=value` segment as received. */
  readonly raw: string;
  readonly name: string;
  readonly rawName: string;
  readonly rawValue: string;
}

/** More pairs than any form of ours can have; refuses bodies built to burn CPU. */
export const maxFormPairs = 256;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Percent-decodes a form component; `plusIsSpace` applies the form rule `+` → space. */
export function decodeFormComponent(raw: string, plusIsSpace: boolean, field?: string): string {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, " ") : raw);
  } catch {
    throw new FleFormatError("badPercentEncoding", field);
  }
}

/** Encodes a form component (spaces as `%20`, `+` `/` `=` escaped). */
export function encodeFormComponent(value: string): string {
  return encodeURIComponent(value);
}

/** Splits a body into pairs. Throws `FleFormatError` when it is too large, not UTF-8, or ambiguous. */
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
  const pairs: FormPair[] = [];
  const seen = new Set<string>();
  for (const segment of text.split("&")) {
    if (segment === "") continue;
    if (pairs.length >= maxFormPairs) throw new FleFormatError("tooManyFields");
    const eq = segment.indexOf("=");
    const rawName = eq === -1 ? segment : segment.slice(0, eq);
    const rawValue = eq === -1 ? "" : segment.slice(eq + 1);
    const name = decodeFormComponent(rawName, true);
    if (name === "") throw new FleFormatError("emptyName");
    if (seen.has(name)) throw new FleFormatError("duplicateField", safeFieldName(name));
    seen.add(name);
    pairs.push({ raw: segment, name, rawName, rawValue });
  }
  return pairs;
}
