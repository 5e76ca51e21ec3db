/**
 * Test helpers of @veil/crypto (`@veil/crypto/testing`): an in-process KMS stand-in, the same served
 * over HTTP, and run-time RSA keys. Never import from production code.
 */
export * from "./keys.ts";
export * from "./kms-http-stand-in.ts";
export * from "./kms-stand-in.ts";
export * as stockSdk from "./stock-sdk.ts";
