// `pnpm dev`: the whole request path on this machine, with no setup. Ctrl-C stops everything.
import { prepareBundles } from "../stack/functions.ts";
import { startLocalStack } from "../stack/start.ts";
import { ensureWebBuilt } from "../stack/web-build.ts";

// The functions run from their production bundles, as deployed; rebuilt here when a source changed.
const bundles = await prepareBundles("production");
if (bundles.rebuilt.length > 0) console.warn(`Built the function bundles: ${bundles.rebuilt.join(", ")}`);

if (!(await ensureWebBuilt()))
  console.warn("The web app could not be built (see above): serving the API only.");

const started = Date.now();
const stack = await startLocalStack({
  ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
  ...(process.env.VEIL_STATE_DIR ? { stateDir: process.env.VEIL_STATE_DIR } : {}),
});
const { info } = stack;
console.log(`
Veil local stack is up (${Date.now() - started} ms).

  Open:        ${info.edgeUrl}        <- local CloudFront, the only entry point
  API:         ${info.edgeUrl}/api/records
  Gateway:     ${info.gatewayUrl}   (API key + SigV4 required)
  Cognito:     ${info.cognito.endpoint}  pool ${info.cognito.userPoolId}
  KMS:         ${info.kmsEndpoint}
  Database:    ${info.databaseUrl.replace(/:[^:@/]*@/, ":***@")}
  State, logs: ${info.stateDir}  (${info.logDir})
  Details:     ${info.stateDir}/local.json

  See what a DBA sees:  pnpm veil inspect <record id>
  Stop:                 Ctrl-C
`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack…`);
  await stack.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
