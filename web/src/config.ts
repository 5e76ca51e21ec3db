import type { ResourcesConfig } from "aws-amplify";

/** Cognito sign-in flows the app knows: SRP in AWS, plain password against the local stand-in. */
export const authFlows = ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"] as const;
export type AuthFlow = (typeof authFlows)[number];

/** `/config.json`, written next to the web build by the deploy (or served by the local CloudFront). */
export interface RuntimeConfig {
  readonly region: string;
  readonly stage: string;
  readonly cognito: {
    readonly userPoolId: string;
    readonly userPoolClientId: string;
    /** Only for a non-AWS endpoint (the local stack); absent in AWS. */
    readonly endpoint?: string;
    readonly authFlow: AuthFlow;
  };
}

/** The runtime config is missing or malformed; the app cannot start. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const str = (o: Record<string, unknown>, key: string, where: string): string => {
  const v = o[key];
  if (typeof v !== "string" || v === "") throw new ConfigError(`${where}.${key} must be a non-empty string`);
  return v;
};

/** Checks the shape of `/config.json`; throws `ConfigError` naming the first bad key. */
export function parseRuntimeConfig(raw: unknown): RuntimeConfig {
  if (!isRecord(raw)) throw new ConfigError("config must be an object");
  const cognito = raw.cognito;
  if (!isRecord(cognito)) throw new ConfigError("config.cognito must be an object");
  const authFlow = cognito.authFlow ?? "USER_SRP_AUTH";
  if (!(authFlows as readonly unknown[]).includes(authFlow)) {
    throw new ConfigError(`config.cognito.authFlow must be one of ${authFlows.join(", ")}`);
  }
  const endpoint = cognito.endpoint;
  if (endpoint !== undefined && (typeof endpoint !== "string" || !/^https?:\/\/[^/]+/.test(endpoint))) {
    throw new ConfigError("config.cognito.endpoint must be an http(s) URL");
  }
  return {
    region: str(raw, "region", "config"),
    stage: str(raw, "stage", "config"),
    cognito: {
      userPoolId: str(cognito, "userPoolId", "config.cognito"),
      userPoolClientId: str(cognito, "userPoolClientId", "config.cognito"),
      ...(typeof endpoint === "string" ? { endpoint } : {}),
      authFlow: authFlow as AuthFlow,
    },
  };
}

/** The Amplify configuration for a runtime config: e-mail sign-in, the local endpoint when given. */
export function amplifyConfig(config: RuntimeConfig): ResourcesConfig {
  return {
    Auth: {
      Cognito: {
        userPoolId: config.cognito.userPoolId,
        userPoolClientId: config.cognito.userPoolClientId,
        ...(config.cognito.endpoint ? { userPoolEndpoint: config.cognito.endpoint } : {}),
        loginWith: { email: true },
        signUpVerificationMethod: "code",
      },
    },
  };
}

/** Fetches and checks `/config.json` (never cached: it changes with each deploy). */
export async function loadRuntimeConfig(fetchImpl: typeof fetch = fetch): Promise<RuntimeConfig> {
  const res = await fetchImpl("/config.json", { cache: "no-store", credentials: "same-origin" });
  if (!res.ok) throw new ConfigError(`could not load /config.json (HTTP ${res.status})`);
  return parseRuntimeConfig(await res.json());
}
