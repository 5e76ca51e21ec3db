export * from "./event.ts";
export * from "./front.ts";
export * from "./image-services.ts";
export * from "./restore-image.ts";
export * from "./server.ts";
