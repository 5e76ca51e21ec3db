/**
 * @veil/local — the local platform: stand-ins for CloudFront (with field-level encryption), API
 * Gateway (API key + SigV4), Lambda, KMS, Secrets Manager, S3 and Cognito, composed by
 * `startLocalStack`. Dev and test only: nothing under functions/ or edge/ may import it.
 */
export * from "./client/index.ts";
export * from "./cloudfront/index.ts";
export * from "./cognito/index.ts";
export * from "./gateway/index.ts";
export * from "./kms/index.ts";
export * from "./lambda/index.ts";
export * from "./scan/index.ts";
export * from "./secrets/index.ts";
export * from "./sigv4/index.ts";
export {
  defaultPorts,
  ephemeralPorts,
  type LocalStackInfo,
  type PortMap,
  stackPaths,
} from "./stack/config.ts";
export type { LocalIdentities, LocalPrincipal } from "./stack/identities.ts";
export { type LocalStack, type StartStackOptions, startLocalStack } from "./stack/start.ts";
