import { imagesApi } from "../api/images.ts";
import { currentRuntimeConfig, uploadKeyAllowed, uploadUrlAllowed } from "../config.ts";
import { apiClient } from "./session.ts";

/** The images API of the signed-in user. A 401 signs the user out; uploads go only to the inbox, encrypted
 * only to the configured key. */
export const images = imagesApi({
  call: apiClient,
  uploadUrlAllowed: (url) => uploadUrlAllowed(currentRuntimeConfig(), url),
  uploadKeyAllowed: (pem) => uploadKeyAllowed(currentRuntimeConfig(), pem),
});
