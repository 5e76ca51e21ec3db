/**
 * One API client per sign-in session, found by access token: a session's key is bound to its first
 * proof (by the token's `origin_jti`, which refreshed tokens share), so every caller acting for that
 * session must prove with the same key.
 */
import { decodeJwt } from "jose";
import { type ApiClient, type ApiClientOptions, createApiClient } from "./client.ts";

/**
 * The session a token belongs to: its `origin_jti`. Tokens without one (forged, malformed, none) can
 * bind no key and share one unbound session, which spares a key pair per bad token.
 */
export function sessionOf(token: string): string {
  try {
    const originJti = decodeJwt(token).origin_jti;
    return typeof originJti === "string" && originJti !== "" ? `origin:${originJti}` : "unbound";
  } catch {
    return "unbound";
  }
}

/** Hands out one client per session. */
export interface SessionClients {
  /** The client of the session `token` belongs to (made on first use). */
  forToken(token: string): ApiClient;
}

/**
 * Creates a registry of per-session clients sharing `options`.
 *
 * @example
 * const sessions = createSessionClients({ baseUrl: edgeUrl });
 * await sessions.forToken(token).fetch("/api/records", { token });
 */
export function createSessionClients(options: ApiClientOptions = {}): SessionClients {
  const clients = new Map<string, ApiClient>();
  return {
    forToken(token) {
      const session = sessionOf(token);
      let client = clients.get(session);
      if (!client) {
        client = createApiClient(options);
        clients.set(session, client);
      }
      return client;
    },
  };
}

/** The process-wide registry, for helpers that are handed bare tokens (absolute URLs only). */
export const sessionClients: SessionClients = createSessionClients();
