export * from "./fle-limits.ts";
export * from "./origin-event.ts";
export * from "./server.ts";
export * from "./viewer-function.ts";
