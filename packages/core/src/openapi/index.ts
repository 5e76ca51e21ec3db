export * from "./document.ts";
export * from "./routes.ts";
export * from "./schemas.ts";
