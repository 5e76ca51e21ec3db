/**
 * Post-deploy smoke checks against a real stage: what each request is and how its response is judged.
 * Pure: the requests are plain descriptions and the judgements read only status, headers and body, so
 * the decision logic is unit-tested with a fake fetch (run.test.ts).
 */

export interface SmokeTarget {
  /** `https://<domain>` of the CloudFront distribution. */
  readonly url: string;
  /** `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`: the API called directly. */
  readonly apiBase: string;
}

export interface Observed {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface Verdict {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON bodies of unknown shape
function json(body: string): any {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** API Gateway's own rejections carry `{ message }`; the records handler answers `{ error, message, requestId }`. */
export function isGatewayRejection(o: Observed): boolean {
  const b = json(o.body);
  return (
    (o.status === 403 || o.status === 401) &&
    b !== undefined &&
    typeof b.message === "string" &&
    b.error === undefined
  );
}

/** Direct calls to API Gateway must be refused by API Gateway itself (no key / no signature). */
export function judgeDirect(name: string, o: Observed): Verdict {
  if (isGatewayRejection(o)) return { name, ok: true, detail: `API Gateway refused it (${o.status})` };
  if (o.status >= 200 && o.status < 300)
    return { name, ok: false, detail: `API answered ${o.status} to an unsigned call` };
  return { name, ok: false, detail: `expected API Gateway's 403, got ${o.status}` };
}

/** The site must carry the response-headers policy. */
export function judgeSiteHeaders(o: Observed): Verdict {
  const name = "site security headers";
  const h = o.headers;
  const missing: string[] = [];
  if (!/max-age=\d+/.test(h["strict-transport-security"] ?? "")) missing.push("strict-transport-security");
  const csp = h["content-security-policy"] ?? "";
  if (!csp.includes("frame-ancestors 'none'")) missing.push("csp frame-ancestors");
  if (/script-src[^;]*'unsafe-inline'/.test(csp)) missing.push("csp without inline scripts");
  if ((h["x-content-type-options"] ?? "") !== "nosniff") missing.push("x-content-type-options");
  if (!h["referrer-policy"]) missing.push("referrer-policy");
  if (o.status !== 200) return { name, ok: false, detail: `site answered ${o.status}` };
  return missing.length === 0
    ? { name, ok: true, detail: "HSTS, CSP, nosniff, referrer policy present" }
    : { name, ok: false, detail: `missing: ${missing.join(", ")}` };
}

/**
 * The app's runtime config as deployed: JSON, not cached, naming a Cognito pool and client with SRP
 * sign-in, the upload origins and a pinned upload key — without it the app cannot start or upload.
 */
export function judgeRuntimeConfig(o: Observed): Verdict {
  const name = "site /config.json";
  if (o.status !== 200) return { name, ok: false, detail: `answered ${o.status}` };
  const c = json(o.body) as {
    cognito?: { userPoolId?: unknown; userPoolClientId?: unknown; authFlow?: unknown };
    uploadOrigins?: unknown;
    uploadKeySha256?: unknown;
  } | null;
  const problems: string[] = [];
  if (!/^[a-z]{2}-[a-z]+-\d_[A-Za-z0-9]+$/.test(String(c?.cognito?.userPoolId))) problems.push("userPoolId");
  if (typeof c?.cognito?.userPoolClientId !== "string") problems.push("userPoolClientId");
  if (c?.cognito?.authFlow !== "USER_SRP_AUTH") problems.push("authFlow");
  if (!Array.isArray(c?.uploadOrigins) || c.uploadOrigins.length === 0) problems.push("uploadOrigins");
  if (!Array.isArray(c?.uploadKeySha256) || c.uploadKeySha256.length === 0) problems.push("uploadKeySha256");
  if (!/no-cache|no-store/.test(o.headers["cache-control"] ?? "")) problems.push("cache-control");
  return problems.length === 0
    ? { name, ok: true, detail: "pool, client, SRP, upload origins and pinned key; not cached" }
    : { name, ok: false, detail: `wrong or missing: ${problems.join(", ")}` };
}

/**
 * Through CloudFront without a user: the edge must sign, API Gateway must accept the signature and the
 * API key, and the handler itself must refuse the missing identity (401 with its own error body).
 */
export function judgeSignedChain(o: Observed): Verdict {
  const name = "CloudFront → edge signer → API Gateway → handler";
  const b = json(o.body);
  if (o.status === 401 && b?.error === "Unauthorized")
    return { name, ok: true, detail: "handler reached, identity required" };
  if (isGatewayRejection(o)) {
    const why = /signature/i.test(b.message) ? "signature mismatch" : b.message;
    return { name, ok: false, detail: `API Gateway refused the edge's request (${o.status}: ${why})` };
  }
  return { name, ok: false, detail: `expected the handler's 401, got ${o.status}` };
}

/**
 * A record created through CloudFront. The handler only accepts sensitive fields that arrive as FLE
 * ciphertext, and API Gateway only accepts the edge's signature if the edge hashed the body it forwards,
 * so a 201 answers the ordering question: the edge signed the encrypted body and the handler got
 * ciphertext. A signature mismatch means the edge saw a different body than the origin did.
 */
export function judgeFleCreate(o: Observed): Verdict & { id?: string } {
  const name = "FLE round trip: create";
  const b = json(o.body);
  if (o.status === 201 && typeof b?.id === "string")
    return { name, ok: true, detail: "created; the handler decrypted FLE ciphertext", id: b.id };
  if (isGatewayRejection(o) && /signature/i.test(b.message))
    return {
      name,
      ok: false,
      detail: "signature mismatch: the edge signed a different body than API Gateway received (FLE ordering)",
    };
  if (o.status === 400 && b?.error === "BadRequest")
    return {
      name,
      ok: false,
      detail: "the handler could not read the fields as FLE ciphertext (FLE not applied?)",
    };
  return { name, ok: false, detail: `expected 201, got ${o.status}${b?.error ? ` ${b.error}` : ""}` };
}

/** Reading the record back returns the plaintext that was sent (decrypt + envelope round trip). */
export function judgeFleRead(o: Observed, expected: Readonly<Record<string, string>>): Verdict {
  const name = "FLE round trip: read back";
  const b = json(o.body);
  if (o.status !== 200) return { name, ok: false, detail: `expected 200, got ${o.status}` };
  const fields = b?.fields ?? b ?? {};
  const wrong = Object.entries(expected)
    .filter(([k, v]) => fields[k] !== v)
    .map(([k]) => k);
  return wrong.length === 0
    ? { name, ok: true, detail: "the fields read back equal the fields sent" }
    : { name, ok: false, detail: `fields differ: ${wrong.join(", ")}` };
}

/**
 * A form whose content type carries a charset: CloudFront FLE may not count it as the configured type
 * and would forward it in clear, so the edge's body guard must refuse it (415 with its own body) before
 * it reaches the API. Reaching the handler (its 401 without a user) means a body went through unguarded.
 */
export function judgeBodyGuard(o: Observed): Verdict {
  const name = "edge body guard: a form with a charset is refused before the API";
  const b = json(o.body);
  if (o.status === 415 && b?.error === "UnsupportedMediaType")
    return { name, ok: true, detail: "refused at the edge (415)" };
  if (o.status === 401 || (o.status >= 200 && o.status < 300))
    return {
      name,
      ok: false,
      detail: `forwarded to the API (${o.status}): such a body would travel in clear`,
    };
  return { name, ok: false, detail: `expected the edge's 415, got ${o.status}` };
}

/**
 * A signed-in call with a valid token but no DPoP proof must be refused by the handler (401 with its
 * own generic body): a token seen on the way cannot be replayed without the browser's key.
 */
export function judgeProofRequired(o: Observed): Verdict {
  const name = "proof of possession: a valid token without a proof gets 401";
  const b = json(o.body);
  if (o.status === 401 && b?.error === "Unauthorized" && typeof b?.requestId === "string")
    return { name, ok: true, detail: "refused by the handler" };
  return { name, ok: false, detail: `expected the handler's 401, got ${o.status}` };
}
