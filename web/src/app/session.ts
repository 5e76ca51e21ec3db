import { fetchAuthSession, signOut } from "aws-amplify/auth";
import { useSyncExternalStore } from "react";
import { createApiClient } from "../api/client.ts";
import { recordsApi } from "../api/records.ts";

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
/** Signs out (everywhere in this browser) and leaves a message for the sign-in screen. */
export async function endSession(message?: string): Promise<void> {
  if (ending) return;
  ending = true;
  notice = message;
  emit();
  try {
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

/** The records API of the signed-in user. A 401 signs the user out. */
export const api = recordsApi(
  createApiClient({
    accessToken,
    onUnauthorized: () => void endSession("Your session has ended. Please sign in again."),
  }),
);
