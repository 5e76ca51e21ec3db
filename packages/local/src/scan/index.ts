export * from "./needles.ts";
export * from "./scan.ts";
