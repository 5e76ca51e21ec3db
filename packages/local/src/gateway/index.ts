export { startGateway } from "./server.ts";
export type {
  ApiKeyPlan,
  GatewayCheck,
  GatewayLogger,
  GatewayOptions,
  GatewayPrincipal,
  GatewayRoute,
  LocalGateway,
  ProxyHandler,
} from "./types.ts";
