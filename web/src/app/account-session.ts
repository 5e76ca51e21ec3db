import { accountApi } from "../api/account.ts";
import { apiClient } from "./session.ts";

/**
 * The account API of the signed-in user (export pages, erasure), through the session's one API client:
 * its proofs, its sealed answers, and its 401 handling.
 */
export const account = accountApi(apiClient);
