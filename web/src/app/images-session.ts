import { fetchAuthSession } from "aws-amplify/auth";
import { createApiClient } from "../api/client.ts";
import { imagesApi } from "../api/images.ts";
import { endSession } from "./session.ts";

/** The Cognito access token of the signed-in user; Amplify refreshes it when it has expired. */
async function accessToken(): Promise<string | undefined> {
  try {
    return (await fetchAuthSession()).tokens?.accessToken?.toString();
  } catch {
    return undefined;
  }
}

const onUnauthorized = () => void endSession("Your session has ended. Please sign in again.");

/** The images API of the signed-in user. A 401 signs the user out. */
export const images = imagesApi({
  call: createApiClient({ accessToken, onUnauthorized }),
  accessToken,
  onUnauthorized,
});
