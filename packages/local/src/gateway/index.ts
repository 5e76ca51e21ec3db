export { startGateway } from "./server.ts";
export type {
  ApiKeyPlan,
  GatewayLogger,
  GatewayOptions,
  GatewayPrincipal,
  GatewayRoute,
  LocalGateway,
  ProxyHandler,
} from "./types.ts";
