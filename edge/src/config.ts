/**
 * Build-time configuration. Lambda@Edge has no environment variables, and `AWS_REGION` at the edge is the
 * replica's region, not the API's, so the API region is written into the bundle by `edge/build.ts`.
 */

/** What the bundle knows about the API it signs for. */
export interface EdgeConfig {
  /** Region of the API Gateway (the signing region). */
  readonly region: string;
  /** When set, only requests to this origin host are signed; any other origin gets a 502. */
  readonly apiHost?: string;
}

// Replaced by esbuild `define` in the production bundle; absent under tsx/vitest.
declare const __VEIL_EDGE_CONFIG__: EdgeConfig | undefined;

/** The configuration baked into this bundle, or `undefined` when running unbundled. */
export function bundledConfig(): EdgeConfig | undefined {
  return typeof __VEIL_EDGE_CONFIG__ === "undefined" ? undefined : __VEIL_EDGE_CONFIG__;
}
