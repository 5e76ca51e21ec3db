import { fetchAuthSession, signOut } from "aws-amplify/auth";
import { useSyncExternalStore } from "react";
import { createApiClient, type UnauthorizedReason } from "../api/client.ts";
import { SessionExpiredError, SessionKeysLostError, SessionNotBoundError } from "../api/errors.ts";
import { recordsApi } from "../api/records.ts";
import { createSessionKeyring } from "../api/session-keys.ts";

/** The key pairs of the signed-in session (IndexedDB), shared by every API client of the page. */
export const sessionKeys = createSessionKeyring();

let notice: string | undefined;
const listeners = new Set<() => void>();
const emit = () => {
  for (const l of listeners) l();
};

/** A message for the sign-in screen (e.g. why the user was signed out). */
export function useSessionNotice(): string | undefined {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => notice,
  );
}

export function clearSessionNotice() {
  notice = undefined;
  emit();
}

let ending = false;
/**
 * Signs out (everywhere in this browser), deletes the session's key pairs and leaves a message for
 * the sign-in screen.
 */
export async function endSession(message?: string): Promise<void> {
  if (ending) return;
  ending = true;
  notice = message;
  emit();
  try {
    await sessionKeys.forget().catch(() => undefined);
    await signOut();
  } finally {
    ending = false;
  }
}

/** The Cognito access token of the signed-in user; Amplify refreshes it when it has expired. */
async function accessToken(): Promise<string | undefined> {
  try {
    return (await fetchAuthSession()).tokens?.accessToken?.toString();
  } catch {
    return undefined;
  }
}

const unauthorizedText: Record<UnauthorizedReason, string> = {
  expired: new SessionExpiredError().message,
  keysLost: new SessionKeysLostError().message,
  notBound: new SessionNotBoundError().message,
};

/** Every API call of the signed-in user goes through this client. A 401 signs the user out. */
export const apiClient = createApiClient({
  accessToken,
  keys: sessionKeys,
  onUnauthorized: (reason) => void endSession(unauthorizedText[reason]),
});

/** The records API of the signed-in user. */
export const api = recordsApi(apiClient);
