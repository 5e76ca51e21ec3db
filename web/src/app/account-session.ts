import { fetchAuthSession } from "aws-amplify/auth";
import { accountApi } from "../api/account.ts";
import { createApiClient } from "../api/client.ts";
import { endSession } from "./session.ts";

/** The Cognito access token of the signed-in user; Amplify refreshes it when it has expired. */
async function accessToken(): Promise<string | undefined> {
  try {
    return (await fetchAuthSession()).tokens?.accessToken?.toString();
  } catch {
    return undefined;
  }
}

/** The account API of the signed-in user (export pages, erasure). A 401 signs the user out. */
export const account = accountApi(
  createApiClient({
    accessToken,
    onUnauthorized: () => void endSession("Your session has ended. Please sign in again."),
  }),
);
