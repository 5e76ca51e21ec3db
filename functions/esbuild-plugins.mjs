/**
 * The esbuild plugins of every Lambda bundle. SST loads this file (`nodejs.plugins` in
 * infra/functions.ts, a path relative to sst.config.ts) and `functions/build.ts` uses the same list,
 * so the bench and the bundle budget test measure what is deployed.
 *
 * - `slimEncryptionSdk`: the Encryption SDK's bn.js/asn1.js modules swapped for tested BigInt/DER
 *   replacements (packages/crypto/esbuild-plugin.mjs).
 */
import { slimEncryptionSdk } from "@veil/crypto/esbuild-plugin";

export default [slimEncryptionSdk()];
