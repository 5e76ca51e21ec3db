export { canonicalPath, canonicalQuery, parseQuery } from "./canonical.ts";
export { uriEncode } from "./encoding.ts";
export type { SigV4FailureReason, SigV4Request, SigV4Result, VerifySigV4Options } from "./verify.ts";
export { verifySigV4 } from "./verify.ts";
