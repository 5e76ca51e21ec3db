import { accountApi } from "../api/account.ts";
import { apiClient } from "./session.ts";

/**
 * The account API of the signed-in user (export pages, erasure), through the page's one API client:
 * the session's keys prove each request and open its sealed answer; a 401 signs the user out.
 */
export const account = accountApi(apiClient);
