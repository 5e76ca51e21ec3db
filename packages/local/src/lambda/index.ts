export * from "./errors.ts";
export * from "./runtime.ts";
