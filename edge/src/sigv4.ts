/**
 * The edge's SigV4 parts. The signer is `@veil/aws/sigv4` (node:crypto only; tested against the AWS
 * SDK signer and the AWS test vectors); this file adds the one thing particular to signing a request
 * as API Gateway receives it from CloudFront: the canonical query from the raw query string CloudFront
 * forwards. Paths are canonicalised as sent (`canonicalUri`: dot and empty segments removed, each
 * still-encoded segment encoded once more — `%20` becomes `%2520` — as API Gateway computes it).
 */
import { uriEncode } from "@veil/aws/sigv4";

export {
  authorizationHeader,
  canonicalPath as canonicalUri,
  type SigningInput,
  sha256Hex,
  signingKey,
  toAmzDate,
  uriEncode,
} from "@veil/aws/sigv4";

/**
 * Canonical query string from a raw query (no `?`). Names and values are decoded — `+` as a space, as
 * API Gateway reads it — then SigV4-encoded and sorted. Throws on a malformed escape.
 */
export function canonicalQueryString(rawQuery: string): string {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const decode = (s: string) => uriEncode(decodeURIComponent(s.replace(/\+/g, " ")));
    pairs.push([decode(eq < 0 ? part : part.slice(0, eq)), decode(eq < 0 ? "" : part.slice(eq + 1))]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}
