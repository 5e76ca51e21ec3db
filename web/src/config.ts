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
  /**
   * Origins image uploads may go to (the inbox bucket's). Absent: any S3 bucket of `region`
   * (virtual-hosted, https), which the page's CSP `connect-src` narrows to the inbox bucket.
   */
  readonly uploadOrigins?: readonly string[];
  /**
   * SHA-256 (base64url) of the DER SubjectPublicKeyInfo of each key image uploads may be encrypted to.
   * Absent: any key the upload ticket names is taken.
   */
  readonly uploadKeySha256?: readonly string[];
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
  const uploadOrigins = raw.uploadOrigins;
  if (
    uploadOrigins !== undefined &&
    !(
      Array.isArray(uploadOrigins) &&
      uploadOrigins.every((o) => typeof o === "string" && /^https?:\/\/[^/]+$/.test(o))
    )
  ) {
    throw new ConfigError("config.uploadOrigins must be a list of http(s) origins");
  }
  const uploadKeySha256 = raw.uploadKeySha256;
  if (
    uploadKeySha256 !== undefined &&
    !(
      Array.isArray(uploadKeySha256) &&
      uploadKeySha256.every((k) => typeof k === "string" && /^[\w-]{43}$/.test(k))
    )
  ) {
    throw new ConfigError("config.uploadKeySha256 must be a list of base64url SHA-256 digests");
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
    ...(uploadOrigins ? { uploadOrigins: uploadOrigins as string[] } : {}),
    ...(uploadKeySha256 ? { uploadKeySha256: uploadKeySha256 as string[] } : {}),
  };
}

/**
 * Whether an image upload may be sent to `url`: one of `uploadOrigins`, or else an https S3 bucket
 * of the region. Never the app's own origin, where CloudFront (and anyone operating it) would get it.
 *
 * @example
 * uploadUrlAllowed({ region: "eu-west-1" }, new URL("https://inbox.s3.eu-west-1.amazonaws.com/k")); // true
 */
export function uploadUrlAllowed(
  config: Pick<RuntimeConfig, "region" | "uploadOrigins"> | undefined,
  url: URL,
): boolean {
  if (!config) return false;
  if (config.uploadOrigins) return config.uploadOrigins.some((o) => new URL(o).origin === url.origin);
  const s3Host = `.s3.${config.region}.amazonaws.com`;
  return (
    url.protocol === "https:" &&
    url.port === "" &&
    url.hostname.endsWith(s3Host) &&
    /^[a-z0-9][a-z0-9.-]*$/.test(url.hostname.slice(0, -s3Host.length))
  );
}

/**
 * Whether an image may be encrypted to the PEM public key an upload ticket names: its SHA-256 is one
 * of `uploadKeySha256`, or no key is pinned.
 *
 * @example
 * await uploadKeyAllowed({ uploadKeySha256: ["…"] }, ticket.publicKey.pem);
 */
export async function uploadKeyAllowed(
  config: Pick<RuntimeConfig, "uploadKeySha256"> | undefined,
  pem: string,
): Promise<boolean> {
  if (!config) return false;
  if (!config.uploadKeySha256) return true;
  const match = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----\s*$/.exec(pem.trim());
  if (!match?.[1]) return false;
  const der = Uint8Array.from(atob(match[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  const b64url = btoa(String.fromCharCode(...digest))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return config.uploadKeySha256.includes(b64url);
}

let loaded: RuntimeConfig | undefined;
/** The runtime config `loadRuntimeConfig` loaded for this page, if it has. */
export const currentRuntimeConfig = (): RuntimeConfig | undefined => loaded;

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
  loaded = parseRuntimeConfig(await res.json());
  return loaded;
}
