/**
 * A Node client of the Veil API that speaks the browser's protocol: every request with a bearer token
 * carries a DPoP proof made with the session's proof key, and every sealed answer is opened with the
 * session's seal key and checked against the proof's `jti`. Tests, benchmarks, the scanner and the
 * smoke checks call the API through it.
 */
import { proofOfPossession, sealedAnswer } from "@veil/core";
import { SealedAnswerError } from "./errors.ts";
import { createSessionKeys, type SessionKeys } from "./keys.ts";
import { isSealed, openAnswer } from "./open.ts";
import { makeProof, type Proof } from "./proof.ts";

/** Options of `createApiClient`. */
export interface ApiClientOptions {
  /** Resolves relative request paths, e.g. the local CloudFront's `edgeUrl`. */
  readonly baseUrl?: string;
  /** The session's keys; made on first use when absent (one session per client). */
  readonly keys?: SessionKeys | Promise<SessionKeys>;
  /** The fetch to send with. Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /**
   * Which answers must arrive sealed; an unsealed one throws `SealedAnswerError("unsealed")`.
   * Default: every 2xx answer with a body to a path under `/api/`.
   */
  readonly mustBeSealed?: (path: string, status: number) => boolean;
}

/** How a request's proof is made: the default (a fresh one), none, a given one, or changed claims. */
export type ProofChoice = false | Proof | { readonly claims: Readonly<Record<string, unknown>> };

/** `RequestInit` plus the bearer token and the proof choice. */
export interface ApiRequestInit extends RequestInit {
  /** The access token, sent as `Authorization: Bearer …`; without it no proof is made. */
  readonly token?: string;
  readonly proof?: ProofChoice;
}

/** The answer as it crossed the wire, before opening. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: Response["headers"];
  readonly body: Uint8Array;
  /** The `jti` of the request's proof, if it carried one. */
  readonly proofJti?: string;
}

export interface ApiClient {
  /** The session's keys (made on first use). */
  keys(): Promise<SessionKeys>;
  /** Makes a proof for one request (for callers that send with their own HTTP client). */
  proof(method: string, url: string | URL, token: string): Promise<Proof>;
  /** Opens a sealed answer body of the request whose proof had `jti`. */
  open(contentType: string, body: Uint8Array, jti: string): Promise<Uint8Array>;
  /**
   * Sends a request with token and proof and answers with the opened body: the sealed type's
   * `content-type`, the original status and other headers. `rawAnswer(response)` gives what crossed
   * the wire.
   */
  fetch(input: string | URL, init?: ApiRequestInit): Promise<Response>;
  /**
   * Opens an answer received some other way (e.g. straight from the gateway) for the request described;
   * as `fetch` does with its own answers.
   */
  receive(res: Response, request: { url: string | URL; method: string; proof?: Proof }): Promise<Response>;
}

const raw = new WeakMap<Response, RawAnswer>();

/** What crossed the wire for a response of `ApiClient.fetch` (undefined for any other response). */
export function rawAnswer(response: Response): RawAnswer | undefined {
  return raw.get(response);
}

const defaultMustBeSealed = (path: string, status: number) =>
  path.startsWith("/api/") && status >= 200 && status < 300;

const bodiless = (status: number) => status === 204 || status === 304 || (status >= 100 && status < 200);

/**
 * Creates a client for one sign-in session.
 *
 * @example
 * const api = createApiClient({ baseUrl: stack.info.edgeUrl });
 * const res = await api.fetch("/api/records", { token: accessToken });
 * const { items } = await res.json(); // opened and checked against the request's proof
 */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  let keys: Promise<SessionKeys> | undefined = options.keys ? Promise.resolve(options.keys) : undefined;
  const send = options.fetch ?? globalThis.fetch;
  const mustBeSealed = options.mustBeSealed ?? defaultMustBeSealed;
  const client: ApiClient = {
    keys() {
      keys ??= createSessionKeys();
      return keys;
    },
    async proof(method, url, token) {
      return makeProof(await client.keys(), { method, url, accessToken: token });
    },
    async open(contentType, body, jti) {
      return openAnswer(await client.keys(), { contentType, body }, jti);
    },
    async fetch(input, init = {}) {
      const { token, proof: choice, headers: given, ...rest } = init;
      const url = new URL(input, options.baseUrl).href;
      const method = (rest.method ?? "GET").toUpperCase();
      const headers = new Headers(given);
      let proof: Proof | undefined;
      if (token !== undefined) {
        headers.set("authorization", `Bearer ${token}`);
        if (choice === undefined) proof = await client.proof(method, url, token);
        else if (choice !== false && "jwt" in choice) proof = choice;
        else if (choice !== false)
          proof = await makeProof(await client.keys(), {
            method,
            url,
            accessToken: token,
            claims: choice.claims,
          });
        if (proof) headers.set(proofOfPossession.header, proof.jwt);
      }
      return client.receive(await send(url, { ...rest, method, headers }), { url, method, proof });
    },
    async receive(res, { url, method, proof }) {
      const body = new Uint8Array(await res.arrayBuffer());
      const answer: RawAnswer = {
        status: res.status,
        headers: res.headers,
        body,
        ...(proof ? { proofJti: proof.jti } : {}),
      };
      let opened: Uint8Array<ArrayBuffer> = body;
      const out = new Headers(res.headers);
      if (isSealed(res.headers.get("content-type"))) {
        if (!proof) throw new SealedAnswerError("wrongContext");
        const type = res.headers.get(sealedAnswer.plaintextTypeHeader);
        if (!type) throw new SealedAnswerError("missingType");
        opened = await openAnswer(
          await client.keys(),
          { contentType: res.headers.get("content-type") ?? "", body },
          proof.jti,
        );
        out.set("content-type", type);
        out.delete(sealedAnswer.plaintextTypeHeader);
        out.delete("content-length");
        out.delete("content-encoding");
      } else if (body.byteLength > 0 && mustBeSealed(new URL(url).pathname, res.status)) {
        throw new SealedAnswerError("unsealed");
      }
      const response = new Response(bodiless(res.status) || method.toUpperCase() === "HEAD" ? null : opened, {
        status: res.status,
        statusText: res.statusText,
        headers: out,
      });
      raw.set(response, answer);
      return response;
    },
  };
  return client;
}
