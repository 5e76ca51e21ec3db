import { fleContentType, headers as headerNames, proofOfPossession, sealedAnswer } from "@veil/core";
import {
  ApiError,
  type FieldProblem,
  NetworkError,
  SealedAnswerError,
  SessionExpiredError,
  SessionKeysLostError,
  SessionNotBoundError,
} from "./errors.ts";
import { makeProof } from "./proof.ts";
import { fromBase64, openSealed, preloadOpener } from "./sealed.ts";
import { type SessionKeyring, type SessionKeys, sessionOf } from "./session-keys.ts";

/**
 * Why the API refused the session: it ended, this browser lost the session's keys, or the API never
 * accepted this browser's keys for a new session (it bound the session to another key first).
 */
export type UnauthorizedReason = "expired" | "keysLost" | "notBound";

export interface ApiClientOptions {
  /** The Cognito access token of the signed-in user, or undefined when there is none. */
  readonly accessToken: () => Promise<string | undefined>;
  /** The session's key pairs: they sign each request's proof and open its sealed answer. */
  readonly keys: SessionKeyring;
  /** Called once a request was refused with 401, before the error is thrown. */
  readonly onUnauthorized?: (reason: UnauthorizedReason) => void;
  readonly fetch?: typeof fetch;
  /** Default: same origin (CloudFront routes `/api/*` to the API). */
  readonly baseUrl?: string;
}

export interface ApiRequest {
  readonly method: "GET" | "POST" | "DELETE";
  readonly path: string;
  /** A url-encoded form: the only body type CloudFront field-level encryption protects. */
  readonly form?: URLSearchParams;
  readonly headers?: Readonly<Record<string, string>>;
  /** The answer is a file of one of these media types (the body is then a `Blob`), not JSON. */
  readonly fileTypes?: readonly string[];
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly etag: string | undefined;
}

export type ApiClient = <T>(request: ApiRequest) => Promise<ApiResponse<T>>;

/**
 * Makes the function every API call goes through: adds the bearer token and a DPoP proof signed by
 * the session's proof key, sends writes as `application/x-www-form-urlencoded` (JSON would travel
 * past the edge unencrypted), opens the sealed answer (refusing any success that is not sealed to
 * this session for this very request) and turns error answers into typed errors.
 *
 * @example
 * const call = createApiClient({ accessToken, keys: createSessionKeyring() });
 * const { body } = await call<{ items: RecordMeta[] }>({ method: "GET", path: "/api/records" });
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.baseUrl ?? "";
  const refuse = (keys: SessionKeys | undefined): never => {
    const reason: UnauthorizedReason =
      keys === undefined
        ? "expired"
        : keys.remade
          ? "keysLost"
          : options.keys.isBound(keys)
            ? "expired"
            : "notBound";
    options.onUnauthorized?.(reason);
    throw reason === "keysLost"
      ? new SessionKeysLostError()
      : reason === "notBound"
        ? new SessionNotBoundError()
        : new SessionExpiredError();
  };
  return async <T>(request: ApiRequest): Promise<ApiResponse<T>> => {
    const token = await options.accessToken();
    if (!token) return refuse(undefined);
    preloadOpener();
    const keys = await options.keys.forToken(token);
    const target = `${base}${request.path}`;
    const proof = await makeProof(keys, {
      method: request.method,
      url: new URL(target, globalThis.location?.href).href,
      accessToken: token,
    });
    const headers: Record<string, string> = {
      accept: `${request.fileTypes ? sealedAnswer.streamContentType : sealedAnswer.contentType}, application/json`,
      authorization: `Bearer ${token}`,
      ...request.headers,
      [proofOfPossession.header]: proof.jwt,
    };
    // Exactly the type CloudFront encrypts (no charset parameter): the edge refuses any other body.
    if (request.form) headers["content-type"] = fleContentType;
    let res: Response;
    try {
      res = await doFetch(target, {
        method: request.method,
        headers,
        ...(request.form ? { body: request.form.toString() } : {}),
        cache: "no-store",
        credentials: "omit",
        redirect: "error",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new NetworkError();
    }
    if (res.status === 401) {
      // Only a refusal of the current session signs out: an answer for one that has ended since (a
      // sign-out, perhaps a new sign-in, while this request was under way) must not end the next.
      const current = await options.accessToken().catch(() => undefined);
      if (current === undefined || !sameSession(current, token)) throw new SessionExpiredError();
      return refuse(keys);
    }
    if (!res.ok) throw await toApiError(res);
    const body = (await openAnswer(res, keys, proof.jti, request.fileTypes)) as T;
    // An answer sealed for this proof: the function accepted it, so the session is bound to these keys.
    options.keys.answered(keys);
    return { status: res.status, body, etag: res.headers.get("etag") ?? undefined };
  };
}

const sameSession = (a: string, b: string) => {
  const [x, y] = [sessionOf(a), sessionOf(b)];
  return x.user === y.user && x.session === y.session;
};

/** The media type of a header value, without parameters, lower case. */
const mediaType = (value: string | null) => (value ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

/**
 * The plaintext of a successful answer: JSON, or a `Blob` of one of `fileTypes`. A body that is not
 * sealed to `keys` for the proof `jti` is refused, whatever it holds.
 */
async function openAnswer(
  res: Response,
  keys: SessionKeys,
  jti: string,
  fileTypes: readonly string[] | undefined,
): Promise<unknown> {
  const requestId = res.headers.get(headerNames.requestId) ?? undefined;
  let raw: Uint8Array;
  try {
    raw = res.status === 204 ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  } catch {
    // A stream cut short (the server stops an answer that fails a check after the first bytes).
    throw new ApiError(502, "IncompleteAnswer", "The answer could not be loaded completely.", requestId);
  }
  if (raw.byteLength === 0 && !fileTypes) return undefined;
  const type = mediaType(res.headers.get("content-type"));
  const plainType = mediaType(res.headers.get(sealedAnswer.plaintextTypeHeader));
  try {
    let message: Uint8Array;
    if (type === sealedAnswer.contentType) message = fromBase64(new TextDecoder().decode(raw));
    else if (type === sealedAnswer.streamContentType) message = raw;
    else throw new Error("not sealed");
    const plaintext = await openSealed(message, keys, jti);
    if (fileTypes) {
      if (!fileTypes.includes(plainType)) throw new Error("unexpected file type");
      return new Blob([plaintext as Uint8Array<ArrayBuffer>], { type: plainType });
    }
    if (plainType !== "application/json") throw new Error("not JSON");
    return JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
  } catch (err) {
    if (err instanceof NetworkError) throw err;
    throw new SealedAnswerError(requestId);
  }
}

const fallbackMessages: Record<number, string> = {
  400: "The request was not accepted.",
  403: "You are not allowed to do this.",
  404: "This record does not exist (any more).",
  409: "This record was changed in the meantime.",
  412: "This record was changed in the meantime.",
  413: "The record is too large.",
  428: "The record's version is missing.",
  429: "Too many requests. Please wait a moment and try again.",
};

/** Reads an error answer: the API's JSON body, the edge's, or just the status. */
export async function toApiError(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(await res.text());
    if (typeof parsed === "object" && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page): the status says enough.
  }
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const requestId =
    str(body.requestId) ??
    res.headers.get(headerNames.requestId) ??
    res.headers.get("x-amz-cf-id") ??
    undefined;
  const code = str(body.error) ?? str(body.message) ?? `Http${res.status}`;
  const message =
    res.status >= 500
      ? "Something went wrong on our side. Please try again."
      : ((str(body.error) ? str(body.message) : undefined) ??
        fallbackMessages[res.status] ??
        "The request failed.");
  return new ApiError(res.status, code, message, requestId, fieldProblems(body.details));
}

function fieldProblems(raw: unknown): FieldProblem[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((d: unknown) => {
    if (typeof d !== "object" || d === null) return [];
    const { field, code, message } = d as Record<string, unknown>;
    return typeof field === "string" && typeof message === "string"
      ? [{ field, code: typeof code === "string" ? code : "invalid", message }]
      : [];
  });
}
