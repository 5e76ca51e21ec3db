/**
 * TEST ONLY. Switches that turn exactly one security control of the records function off, so the proof
 * tests can show that the matching security test then fails ("tests with teeth").
 *
 * Never in a deployed bundle: the handler reaches this module only where `__VEIL_TEST_SWITCHES__` is
 * exactly `true` — the test flavour of functions/build.ts, which the local stack runs inside a test
 * run. Every production build defines it `false` (functions/manifest.ts `productionDefine`), so the
 * minifier drops the call and tree-shaking drops this module; a build without the define, or the
 * unbundled source, never calls it (checked by `test-switches.test.ts`). Compiled in, a switch acts
 * only when the local stack — which refuses outside a test run — sets `VEIL_TEST_DISABLE_CONTROL` in
 * the function's own environment.
 */
import type { JsonWebKey } from "node:crypto";
import { FleFieldNotAllowedError } from "@veil/crypto";
import type { createLogger } from "@veil/log";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from "jose";
import { callerVerifier, type VerifiedToken } from "../shared/auth.ts";
import { UnauthorizedError } from "../shared/errors.ts";
import { header } from "../shared/http.ts";
import type { VerifiedProof } from "../shared/proof.ts";
import { type AnswerSealer, sealable } from "../shared/sealing.ts";
import type { RecordsDeps } from "./deps.ts";

/** The controls of the records function a test may switch off. */
export const handlerControls = [
  "fleRequired",
  "tokenVerification",
  "ownerScoping",
  "envelopeEncryption",
  "encryptionContext",
  "logRedaction",
  "auditTrail",
  "idempotency",
] as const;
/**
 * The proof-of-possession controls: `proof` (a request is accepted without verifying its DPoP proof;
 * one without any proof too, answered in clear as there is no key to seal to) and `sealing` (answers
 * leave in clear, plain JSON). Listed apart from `handlerControls` until their security checks exist;
 * the function honours both.
 */
export const proofControls = ["proof", "sealing"] as const;
export type HandlerControl = (typeof handlerControls)[number] | (typeof proofControls)[number];

/** Names the control to switch off (function environment). */
export const disableControlEnv = "VEIL_TEST_DISABLE_CONTROL";
/** When "1", the function logs each decrypted input, as a careless debug line would (redaction must catch it). */
export const logProbeEnv = "VEIL_TEST_LOG_PROBE";

/** The log methods the handler uses (those of the redacting Powertools logger). */
export type HandlerLogger = Pick<ReturnType<typeof createLogger>, "info" | "warn" | "error">;

/** The control switched off in this process, if any. */
export function disabledControl(): HandlerControl | undefined {
  const name = process.env[disableControlEnv];
  return ([...handlerControls, ...proofControls] as readonly string[]).includes(name ?? "")
    ? (name as HandlerControl)
    : undefined;
}

/** With `logRedaction` off: a plain JSON logger with no redaction at all; otherwise `redacting`. */
export function testLogger(redacting: HandlerLogger, serviceName: string): HandlerLogger {
  if (disabledControl() !== "logRedaction") return redacting;
  const line =
    (level: string) =>
    (message: unknown, ...extra: unknown[]): void => {
      const attributes = Object.assign({}, ...extra.filter((e) => typeof e === "object")) as object;
      process.stdout.write(`${JSON.stringify({ level, message, service: serviceName, ...attributes })}\n`);
    };
  return { info: line("INFO"), warn: line("WARN"), error: line("ERROR") };
}

type QueryConfig = { name?: string; text: string; values?: unknown[] };
type Rewrite = (q: QueryConfig) => QueryConfig;

/** Rewrites the statements of the db repositories by their names, as if their code had been changed. */
const rewrites: Partial<Record<HandlerControl, Rewrite>> = {
  // Owner scoping removed: every `owner_id = $n` condition of the record and audit reads/writes holds.
  ownerScoping: (q) =>
    q.name?.startsWith("veil.records.") || q.name === "veil.audit.listForRecord"
      ? { text: q.text.replace(/owner_id = \$(\d)/g, "(owner_id = $$$1 OR TRUE)"), values: q.values ?? [] }
      : q,
  // Audit trail removed: appends return a row but write nothing.
  auditTrail: (q) =>
    q.name === "veil.audit.append"
      ? {
          text: `SELECT '0' AS id, $1::text AS owner_id, $2::text AS actor, $3::text AS action,
                 $4::uuid AS record_id, $5::text AS request_id, now() AS at`,
          values: q.values ?? [],
        }
      : q,
  // Idempotency removed: every claim succeeds, so a retried create makes a second record.
  idempotency: (q) =>
    q.name === "veil.idempotency.claim"
      ? {
          text: "SELECT $2::text AS key WHERE $1::text IS NOT NULL AND $3::text IS NOT NULL",
          values: q.values ?? [],
        }
      : q,
};

function rewriting<T extends object>(target: T, rewrite: Rewrite): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (prop === "query" && typeof value === "function") {
        return (q: unknown, ...rest: unknown[]) =>
          (value as (...a: unknown[]) => unknown).call(
            t,
            typeof q === "object" && q !== null ? rewrite(q as QueryConfig) : q,
            ...rest,
          );
      }
      if (prop === "connect" && typeof value === "function") {
        return async () => rewriting(await (value as () => Promise<object>).call(t), rewrite);
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/** Token verification removed: the claims are read, not checked (a token without `origin_jti` gets its `sub`). */
function unverifiedToken(event: APIGatewayProxyEvent): Promise<VerifiedToken> {
  const token = header(event, "x-veil-identity")?.replace(/^Bearer /, "") ?? "";
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
      sub?: unknown;
      origin_jti?: unknown;
    };
    if (typeof payload.sub === "string") {
      const originJti = typeof payload.origin_jti === "string" ? payload.origin_jti : `sub:${payload.sub}`;
      return Promise.resolve({ token, sub: payload.sub, username: payload.sub, originJti });
    }
  } catch {
    // fall through
  }
  return Promise.reject(new UnauthorizedError());
}

/**
 * Proof verification removed: a proof's claims are read, not checked (no signature, URL, time, replay
 * or binding check); a request without a proof passes too, with no key to seal its answer to.
 */
async function unverifiedProof(event: APIGatewayProxyEvent): Promise<VerifiedProof> {
  const proof = header(event, "dpop");
  try {
    const claims = decodeJwt(proof ?? "");
    const { jwk } = decodeProtectedHeader(proof ?? "");
    return {
      proof: { jti: String(claims.jti), jkt: await calculateJwkThumbprint(jwk as never) },
      sealKey: claims.sek as JsonWebKey,
    };
  } catch {
    return { proof: { jti: "-", jkt: "-" }, sealKey: undefined as unknown as JsonWebKey };
  }
}

/** Sealing removed: answers leave as the routes made them. */
const clearSealer = (sealer: AnswerSealer): AnswerSealer => ({
  seal: async (result) => result,
  sealStream: sealer.sealStream,
});

/** With `proof` off: a caller without a key (no proof was sent) gets its answer in clear. */
const sealerForUnverified = (sealer: AnswerSealer): AnswerSealer => ({
  seal: (result, caller) =>
    caller.sealKey || !sealable(result) ? sealer.seal(result, caller) : Promise.resolve(result),
  sealStream: sealer.sealStream,
});

/**
 * Returns the deps with the one switched-off control removed (and the log probe wired in when asked),
 * or `deps` unchanged when no switch is set.
 */
export function withTestSwitches(deps: RecordsDeps, logger: HandlerLogger): RecordsDeps {
  const off = disabledControl();
  const probe = process.env[logProbeEnv] === "1";
  if (off === undefined && !probe) return deps;
  let d: RecordsDeps = deps;
  const rewrite = off ? rewrites[off] : undefined;
  if (rewrite) d = { ...d, pool: rewriting(d.pool, rewrite) as RecordsDeps["pool"] };
  if (off === "tokenVerification") {
    d = { ...d, verifyToken: unverifiedToken, verifyCaller: callerVerifier(unverifiedToken, d.verifyProof) };
  }
  if (off === "proof") {
    d = {
      ...d,
      verifyProof: unverifiedProof,
      verifyCaller: callerVerifier(d.verifyToken, unverifiedProof),
      sealer: sealerForUnverified(d.sealer),
    };
  }
  if (off === "sealing") d = { ...d, sealer: clearSealer(d.sealer) };
  if (off === "envelopeEncryption") {
    d = {
      ...d,
      envelope: {
        ...d.envelope,
        encryptFields: async (fields) => Buffer.from(JSON.stringify(fields), "utf8"),
        decryptFields: async (bytes) => JSON.parse(Buffer.from(bytes).toString("utf8")),
      },
    };
  }
  if (off === "encryptionContext") {
    const fixed = (ctx: { purpose: string }) => ({ ownerId: "-", recordId: "-", purpose: ctx.purpose });
    const envelope = d.envelope;
    d = {
      ...d,
      envelope: {
        ...envelope,
        encryptFields: (fields, ctx) => envelope.encryptFields(fields, fixed(ctx)),
        decryptFields: (bytes, ctx) => envelope.decryptFields(bytes, fixed(ctx)),
      },
    };
  }
  const open = d.openForm;
  d = {
    ...d,
    openForm: async (body) => {
      let form: Record<string, string>;
      try {
        form = await open(body);
      } catch (err) {
        if (off !== "fleRequired" || !(err instanceof FleFieldNotAllowedError)) throw err;
        form = Object.fromEntries(new URLSearchParams(body));
      }
      if (probe) {
        logger.info("test probe: decrypted input", { form });
        logger.info(`test probe: decrypted input ${new URLSearchParams(form).toString()}`);
      }
      return form;
    },
  };
  return d;
}
