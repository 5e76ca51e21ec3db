export * from "./api.ts";
export * from "./classification.ts";
export * from "./errors.ts";
export * from "./fle.ts";
export * from "./headers.ts";
export * from "./patterns.ts";
export * from "./security-headers.ts";
export * from "./validate.ts";
