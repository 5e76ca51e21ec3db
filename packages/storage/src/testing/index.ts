/**
 * Test helpers of @veil/storage (`@veil/storage/testing`): S3 stand-ins (s3rver, OpenStack Swift) and
 * test images with metadata. Never import from production code.
 */
export * from "./images.ts";
export * from "./s3rver.ts";
export * from "./swift.ts";
