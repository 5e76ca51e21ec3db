/**
 * Reads the SigV4 parameters out of an `Authorization` header or a presigned query string. Only the
 * syntax is checked here; the verifier checks meaning (scope, dates, signature).
 */

/** The algorithm this verifier supports (SigV4A's `AWS4-ECDSA-P256-SHA256` is not). */
export const algorithm = "AWS4-HMAC-SHA256";

/** The parts of `Credential=AKID/20150830/us-east-1/service/aws4_request`. */
export interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly terminator: string;
}

/** What the client claims it signed. */
export interface AuthParameters {
  readonly credential: CredentialScope;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** A parse failure, as a short machine-friendly reason. */
export type ParseFailure =
  | "unsupported-algorithm"
  | "malformed-authorization"
  | "malformed-credential"
  | "malformed-signed-headers"
  | "malformed-signature";

const signatureRe = /^[0-9a-f]{64}$/;
const headerNameRe = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export function parseAuthorizationHeader(value: string): AuthParameters | ParseFailure {
  const trimmed = value.trim();
  const space = trimmed.indexOf(" ");
  if (space < 0) return trimmed === algorithm ? "malformed-authorization" : "unsupported-algorithm";
  if (trimmed.slice(0, space) !== algorithm) return "unsupported-algorithm";
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(",")) {
    const item = part.trim();
    const eq = item.indexOf("=");
    if (eq <= 0) return "malformed-authorization";
    const key = item.slice(0, eq);
    if (fields.has(key)) return "malformed-authorization";
    fields.set(key, item.slice(eq + 1));
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (
    fields.size !== 3 ||
    credential === undefined ||
    signedHeaders === undefined ||
    signature === undefined
  ) {
    return "malformed-authorization";
  }
  return parseParts(credential, signedHeaders, signature);
}

/** The presigned-URL parameters, by their query names. */
export interface PresignedQuery {
  readonly algorithm: string;
  readonly credential: string;
  readonly date: string;
  readonly expires: string;
  readonly signedHeaders: string;
  readonly signature: string;
}

/** Parses the already-decoded `X-Amz-Credential`/`X-Amz-SignedHeaders`/`X-Amz-Signature` values. */
export function parsePresigned(query: PresignedQuery): AuthParameters | ParseFailure {
  if (query.algorithm !== algorithm) return "unsupported-algorithm";
  return parseParts(query.credential, query.signedHeaders, query.signature);
}

function parseParts(
  credential: string,
  signedHeaders: string,
  signature: string,
): AuthParameters | ParseFailure {
  const scope = credential.split("/");
  if (scope.length !== 5 || scope.some((p) => p === "")) return "malformed-credential";
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date)) return "malformed-credential";

  const names = signedHeaders.split(";");
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    // Sorted, unique and lower case, exactly as a signer writes them; anything else cannot verify anyway.
    if (!headerNameRe.test(name) || (i > 0 && names[i - 1]! >= name)) return "malformed-signed-headers";
  }
  if (!signatureRe.test(signature)) return "malformed-signature";
  return {
    credential: { accessKeyId, date, region, service, terminator },
    signedHeaders: names,
    signature,
  };
}
