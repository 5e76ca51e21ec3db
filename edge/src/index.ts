/**
 * @veil/edge — the Lambda@Edge origin-request function that signs API requests with SigV4.
 * The deployed bundle (`pnpm --filter @veil/edge build`) exports `handler`; the local CloudFront calls
 * `createOriginRequestHandler` with its own region and credentials.
 */
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResultResponse } from "aws-lambda";
import { bundledConfig } from "./config.ts";
import { createOriginRequestHandler, type OriginRequestHandler } from "./originRequest.ts";
import { generatedResponse } from "./responses.ts";

export type { EdgeConfig } from "./config.ts";
export {
  createOriginRequestHandler,
  type EdgeCredentials,
  environmentCredentials,
  type OriginRequestHandler,
  type OriginRequestHandlerOptions,
} from "./originRequest.ts";

let bundled: OriginRequestHandler | undefined;

/**
 * The deployed entry point, configured at build time. Unbundled (no baked-in region) it answers 502
 * rather than guess a region.
 */
export async function handler(
  event: CloudFrontRequestEvent,
): Promise<CloudFrontRequest | CloudFrontResultResponse> {
  const config = bundledConfig();
  if (config === undefined) return generatedResponse(502);
  bundled ??= createOriginRequestHandler(config);
  return bundled(event);
}
