/**
 * The AWS JSON 1.1 protocol (KMS, Secrets Manager, …): `POST /` with `X-Amz-Target: <prefix>.<Op>` and
 * a JSON body, SigV4-signed, over a keep-alive connection, with the SDK's standard retries and its
 * error-code rules. Errors are typed (`errors.ts`) and never carry a body, a header value or a secret.
 */

import {
  type AwsCredentials,
  type CredentialsProvider,
  type Environment,
  toCredentialsProvider,
} from "./credentials.ts";
import { AwsConfigError, AwsCredentialsError, AwsNetworkError, AwsServiceError } from "./errors.ts";
import { HttpFailure, type HttpResponse, send } from "./http.ts";
import { classify, type RetryOptions, RetryStrategy } from "./retry.ts";
import { signRequest } from "./sigv4.ts";

/** What the protocol needs to know about a service. */
export interface JsonService {
  /** Signing name, e.g. `kms`. */
  readonly signingName: string;
  /** Host prefix of the default endpoint, e.g. `kms` → `kms.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /** `X-Amz-Target` prefix, e.g. `TrentService`. */
  readonly targetPrefix: string;
  /** The SDK's service id in `AWS_ENDPOINT_URL_<ID>`, e.g. `KMS`, `SECRETS_MANAGER`. */
  readonly endpointEnvId: string;
}

/** Options every client of this package takes. */
export interface AwsClientOptions extends RetryOptions {
  /** Default `AWS_REGION`. */
  readonly region?: string;
  /**
   * A non-default endpoint, e.g. `http://127.0.0.1:4599`. Default: `AWS_ENDPOINT_URL_<SERVICE>`, then
   * `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`), then the AWS endpoint.
   */
  readonly endpoint?: string;
  /** Static credentials or a provider. Default: environment, then container credentials. */
  readonly credentials?: AwsCredentials | CredentialsProvider;
  /** Deadline of one attempt (connect, request, whole answer), in ms. Default 5000. */
  readonly attemptTimeoutMs?: number;
  /** Largest answer accepted, in bytes. Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Environment variables to read. Default `process.env`. */
  readonly env?: Environment;
  /** Clock used to sign, for tests. Default `new Date()`. */
  readonly now?: () => Date;
}

/** A client of one JSON 1.1 service. */
export interface JsonClient {
  /** Calls `operation` with `input` (serialised as JSON) and returns the parsed answer. */
  call(operation: string, input: object): Promise<Record<string, unknown>>;
}

/** The AWS endpoint of a service in a region (`.amazonaws.com.cn` in the China regions). */
export function defaultEndpoint(endpointPrefix: string, region: string): string {
  return `https://${endpointPrefix}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** The endpoint URL a client uses, by the precedence of {@link AwsClientOptions.endpoint}. */
export function resolveEndpoint(service: JsonService, region: string, options: AwsClientOptions): URL {
  const env = options.env ?? process.env;
  const configured =
    env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true"
      ? undefined
      : env[`AWS_ENDPOINT_URL_${service.endpointEnvId}`] || env.AWS_ENDPOINT_URL || undefined;
  const endpoint = options.endpoint ?? configured ?? defaultEndpoint(service.endpointPrefix, region);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AwsConfigError(`${service.signingName}: the endpoint is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AwsConfigError(`${service.signingName}: the endpoint must be http or https`);
  }
  return url;
}

/**
 * The SDK's error-code rule for JSON 1.1: `__type`, then `code`, then the `x-amzn-ErrorType` header;
 * anything after `,` or `:` dropped, and the namespace before `#`.
 */
export function errorCode(headers: HttpResponse["headers"], body: unknown): string | undefined {
  const sanitize = (raw: unknown): string | undefined => {
    if (typeof raw !== "string" && typeof raw !== "number") return undefined;
    let code = String(raw);
    code = code.split(",")[0] as string;
    code = code.split(":")[0] as string;
    if (code.includes("#")) code = code.split("#")[1] as string;
    // A code becomes an error's name and a log field: keep it to the characters AWS codes use.
    return /^[A-Za-z0-9_.-]{1,100}$/.test(code) ? code : undefined;
  };
  const data = body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
  if (data.__type !== undefined) return sanitize(data.__type);
  const codeKey = Object.keys(data).find((k) => k.toLowerCase() === "code");
  if (codeKey !== undefined && data[codeKey] !== undefined) return sanitize(data[codeKey]);
  const header = headers["x-amzn-errortype"];
  return header === undefined ? undefined : sanitize(Array.isArray(header) ? header[0] : header);
}

function requestId(headers: HttpResponse["headers"]): string | undefined {
  const raw = headers["x-amzn-requestid"] ?? headers["x-amz-request-id"];
  const id = Array.isArray(raw) ? raw[0] : raw;
  return id !== undefined && /^[A-Za-z0-9-]{1,100}$/.test(id) ? id : undefined;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** Creates a client of one JSON 1.1 service. Region and endpoint are resolved at the first call. */
export function createJsonClient(service: JsonService, options: AwsClientOptions = {}): JsonClient {
  const env = options.env ?? process.env;
  const credentials = toCredentialsProvider(options.credentials, env);
  const retry = new RetryStrategy(options);
  const timeoutMs = options.attemptTimeoutMs ?? 5000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const now = options.now ?? (() => new Date());
  let target: { region: string; url: URL } | undefined;

  const resolveTarget = () => {
    if (target) return target;
    const region = options.region || env.AWS_REGION;
    if (!region)
      throw new AwsConfigError(`${service.signingName}: no region (set the region option or AWS_REGION)`);
    if (!/^[a-z0-9-]{1,50}$/.test(region))
      throw new AwsConfigError(`${service.signingName}: malformed region`);
    target = { region, url: resolveEndpoint(service, region, options) };
    return target;
  };

  return {
    async call(operation, input) {
      const site = { service: service.signingName, operation };
      const { region, url } = resolveTarget();
      const body = Buffer.from(JSON.stringify(input), "utf8");
      let spent = 0;
      for (let attempt = 1; ; attempt++) {
        // Credentials before anything is sent: none (or an unusable set) is final, never unsigned.
        let creds: AwsCredentials;
        try {
          creds = await credentials();
        } catch (err) {
          if (err instanceof AwsCredentialsError) throw err;
          throw new AwsCredentialsError(`${service.signingName}: the credentials provider failed`);
        }
        const signed = signRequest(
          {
            method: "POST",
            path: url.pathname || "/",
            headers: {
              host: url.host,
              "content-type": "application/x-amz-json-1.1",
              "x-amz-target": `${service.targetPrefix}.${operation}`,
            },
            body,
          },
          { credentials: creds, region, service: service.signingName, date: now() },
        );
        let failure: { code: string; statusCode: number } | "network";
        let error: AwsServiceError | AwsNetworkError;
        try {
          const res = await send(
            {
              method: "POST",
              url: new URL(url.pathname || "/", url),
              headers: { ...signed.headers, "content-length": String(body.length) },
              body,
            },
            { timeoutMs, maxResponseBytes },
          );
          const parsed = parseJson(res.body);
          if (res.statusCode >= 200 && res.statusCode < 300) {
            if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
              throw new AwsServiceError(
                site,
                "InvalidResponse",
                res.statusCode,
                requestId(res.headers),
                attempt,
              );
            }
            retry.recordSuccess(spent);
            return parsed as Record<string, unknown>;
          }
          const code = errorCode(res.headers, parsed) ?? "UnknownError";
          failure = { code, statusCode: res.statusCode };
          error = new AwsServiceError(site, code, res.statusCode, requestId(res.headers), attempt);
        } catch (err) {
          if (!(err instanceof HttpFailure)) throw err;
          failure = "network";
          error = new AwsNetworkError(
            site,
            err.kind === "timeout" ? "TimeoutError" : "NetworkError",
            err.code,
            attempt,
          );
        }
        const next = retry.retryAfter(attempt, classify(failure));
        if (!next) throw error;
        spent = next.cost;
        await new Promise((r) => setTimeout(r, next.delayMs));
      }
    },
  };
}
