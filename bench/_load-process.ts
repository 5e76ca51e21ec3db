/**
 * Entry of the load generator's own process (forked by bench/local.ts): one `LoadPlan` in over IPC,
 * one `LoadResult` out, then exit.
 */
import { type LoadPlan, runLoad } from "./_load-client.ts";

process.once("message", (plan: LoadPlan) => {
  runLoad(plan).then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => {
      console.error(`load client failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
});
