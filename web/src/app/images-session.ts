import { imagesApi } from "../api/images.ts";
import { apiClient } from "./session.ts";

/** The images API of the signed-in user. A 401 signs the user out. */
export const images = imagesApi({ call: apiClient });
