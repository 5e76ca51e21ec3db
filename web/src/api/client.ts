import { fleContentType, headers as headerNames } from "@veil/core";
import { ApiError, type FieldProblem, NetworkError, SessionExpiredError } from "./errors.ts";

export interface ApiClientOptions {
  /** The Cognito access token of the signed-in user, or undefined when there is none. */
  readonly accessToken: () => Promise<string | undefined>;
  /** Called once a request was refused with 401, before the error is thrown. */
  readonly onUnauthorized?: () => void;
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
}

export interface ApiResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly etag: string | undefined;
}

export type ApiClient = <T>(request: ApiRequest) => Promise<ApiResponse<T>>;

/**
 * Makes the function every API call goes through: adds the bearer token, sends writes as
 * `application/x-www-form-urlencoded` (JSON would travel past the edge unencrypted) and turns error
 * answers into typed errors.
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const base = options.baseUrl ?? "";
  return async <T>(request: ApiRequest): Promise<ApiResponse<T>> => {
    const token = await options.accessToken();
    if (!token) {
      options.onUnauthorized?.();
      throw new SessionExpiredError();
    }
    const headers: Record<string, string> = {
      accept: "application/json",
      authorization: `Bearer ${token}`,
      ...request.headers,
    };
    // Exactly the type CloudFront encrypts (no charset parameter): the edge refuses any other body.
    if (request.form) headers["content-type"] = fleContentType;
    let res: Response;
    try {
      res = await doFetch(`${base}${request.path}`, {
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
      options.onUnauthorized?.();
      throw new SessionExpiredError();
    }
    if (!res.ok) throw await toApiError(res);
    const text = res.status === 204 ? "" : await res.text();
    return {
      status: res.status,
      body: (text ? JSON.parse(text) : undefined) as T,
      etag: res.headers.get("etag") ?? undefined,
    };
  };
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
