import {
  type GatewayCheck,
  type GatewayOptions,
  type GatewayRoute,
  type LocalGateway,
  startGateway,
} from "../gateway/index.ts";
import type { LocalIdentities } from "./identities.ts";
import { principalLookup } from "./services.ts";
import { type StageConfig, usagePlanThrottle } from "./stage.ts";
import type { Teardown } from "./teardown.ts";

/** What the API Gateway step needs. */
export interface ApiGatewayArgs {
  readonly port: number;
  readonly stage: string;
  readonly region: string;
  /** The stage settings: the usage plan throttles each key as `settings.api` says. */
  readonly settings: StageConfig;
  readonly ids: LocalIdentities;
  readonly routes: GatewayRoute[];
  readonly log: (entry: Record<string, unknown>) => void;
  /** Test switches: checks switched off, a shorter handler time limit. */
  readonly checksOff?: GatewayCheck[];
  readonly timeoutMs?: number;
}

/**
 * The gateway's options: the API keys of the usage plan with the stage's throttle, SigV4 from the edge
 * role only (the developer may sign, but is not on the allow-list).
 */
export function apiGatewayOptions(a: ApiGatewayArgs): GatewayOptions {
  return {
    port: a.port,
    stage: a.stage,
    region: a.region,
    accountId: a.ids.accountId,
    apiKeys: { keys: a.ids.apiKeys, throttle: usagePlanThrottle(a.settings) },
    principals: principalLookup([a.ids.edgeRole, a.ids.developer]),
    allowedPrincipalArns: [a.ids.edgeRole.arn],
    ...(a.checksOff && a.checksOff.length > 0 ? { disabledChecks: a.checksOff } : {}),
    ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
    routes: a.routes,
    logger: {
      warn: (message, fields) => a.log({ level: "WARN", message, ...fields }),
      error: (message, fields) => a.log({ level: "ERROR", message, ...fields }),
    },
  };
}

/** Starts API Gateway (`apiGatewayOptions`) and registers its stop. */
export async function startApiGateway(teardown: Teardown, a: ApiGatewayArgs): Promise<LocalGateway> {
  const gateway = await startGateway(apiGatewayOptions(a));
  teardown.add(() => gateway.stop());
  return gateway;
}
