import { fleLimits } from "@veil/core";

/** The error names CloudFront answers with when a request breaks an FLE limit (HTTP 400). */
export type FleLimitError =
  | "RequestLengthLimitClientError"
  | "FieldNumberLimitClientError"
  | "FieldLengthLimitClientError";

/**
 * Checks a url-encoded body against CloudFront's FLE limits before encryption: body ≤ 1 MB, at most
 * 10 FLE field occurrences, each FLE field value ≤ 16 KB. Returns the error name, or undefined.
 */
export function checkFleLimits(
  body: Buffer,
  isFleField: (name: string) => boolean,
): FleLimitError | undefined {
  if (body.length > fleLimits.maxBodyBytes) return "RequestLengthLimitClientError";
  let count = 0;
  for (const pair of body.toString("latin1").split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " "));
    } catch {
      continue; // malformed names are not FLE fields; the origin rejects them
    }
    if (!isFleField(name)) continue;
    count += 1;
    if (count > fleLimits.maxFields) return "FieldNumberLimitClientError";
    const value = eq < 0 ? "" : pair.slice(eq + 1);
    if (Buffer.byteLength(safeDecode(value), "utf8") > fleLimits.maxFieldBytes)
      return "FieldLengthLimitClientError";
  }
  return undefined;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}
