/**
 * Vitest global setup of the whole-stack projects (`integration`, `web-e2e`): builds the function
 * bundles the local stack runs, once per test run, in the `test` flavour — the production build with
 * the records function's test-only switches compiled in (the only difference; see functions/build.ts).
 */
import { buildBundles } from "@veil/functions/build";
import { localFunctions } from "./functions.ts";

export default async function setup(): Promise<void> {
  await buildBundles({ flavour: "test", names: localFunctions });
}
