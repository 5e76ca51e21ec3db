/**
 * Calls of AWS JSON-protocol services (KMS, Secrets Manager): `POST /` with `X-Amz-Target: <prefix>.<Op>`
 * and a JSON body, signed by aws4's signer (`signer.ts`), sent by `http-transport.ts` (keep-alive
 * connections, a deadline per attempt, a size limit), retried by `retry.ts`. Errors are typed
 * (`errors.ts`) and never carry a body, a header value or a secret.
 */
import {
  type AwsCredentials,
  type CredentialsProvider,
  type Environment,
  signingCredentials,
  toCredentialsProvider,
} from "./credentials.ts";
import { AwsConfigError, AwsNetworkError, AwsServiceError } from "./errors.ts";
import { type Answer, type AnswerHeaders, NoAnswer, send } from "./http-transport.ts";
import { classify, type RetryOptions, RetryStrategy } from "./retry.ts";
import { signRequest } from "./signer.ts";

/** What a client needs to know about a service. */
export interface JsonService {
  /** Signing name, e.g. `kms`. */
  readonly signingName: string;
  /** Host prefix of the default endpoint, e.g. `kms` → `kms.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /** `X-Amz-Target` prefix, e.g. `TrentService`. */
  readonly targetPrefix: string;
  /** The SDK's service id in `AWS_ENDPOINT_URL_<ID>`, e.g. `KMS`, `SECRETS_MANAGER`. */
  readonly endpointEnvId: string;
  /**
   * The operations are authorised by a token in the input, not by SigV4 (Cognito's user operations
   * such as `DeleteUser`): sent unsigned, and no credentials are read.
   */
  readonly unsigned?: boolean;
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
  /** Static credentials or a provider. Default: the environment variables. */
  readonly credentials?: AwsCredentials | CredentialsProvider;
  /** Temporary credentials must stay valid this long to sign a call, in ms. Default 60000. */
  readonly minCredentialValidityMs?: number;
  /** Deadline of one attempt (connect, request, whole answer), in ms. Default 5000. */
  readonly attemptTimeoutMs?: number;
  /** Largest answer accepted, in bytes. Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Environment variables to read. Default `process.env`. */
  readonly env?: Environment;
  /** Clock used to sign and to judge credentials, for tests. Default `new Date()`. */
  readonly now?: () => Date;
}

/** A client of one JSON-protocol service. */
export interface JsonClient {
  /** Calls `operation` with `input` (serialised as JSON) and returns the parsed answer. */
  call(operation: string, input: object): Promise<Record<string, unknown>>;
}

/** The AWS endpoint of a service in a region (`.amazonaws.com.cn` in the China regions). */
export function defaultEndpoint(endpointPrefix: string, region: string): string {
  return `https://${endpointPrefix}.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
}

/** Whether a URL host name is this machine: `localhost`, 127.0.0.0/8 or `[::1]`. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
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
  // Answers carry plaintext data keys and secrets: plain http only to this machine (the local stack).
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    throw new AwsConfigError(`${service.signingName}: a plain http endpoint must be on loopback; use https`);
  }
  return url;
}

/**
 * The AWS SDK's error-code rule for JSON services: `__type`, then `code`, then the `x-amzn-ErrorType`
 * header; anything after `,` or `:` dropped, and the namespace before `#`.
 */
export function errorCode(headers: AnswerHeaders, body: unknown): string | undefined {
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
  return typeof header === "string" ? sanitize(header) : undefined;
}

function requestId(headers: AnswerHeaders): string | undefined {
  const id = headers["x-amzn-requestid"] ?? headers["x-amz-request-id"];
  return typeof id === "string" && /^[A-Za-z0-9-]{1,100}$/.test(id) ? id : undefined;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Creates a client of one JSON-protocol service. Region and endpoint are resolved at the first call.
 *
 * @example
 * const kms = createJsonClient(kmsService, { region: "eu-central-2" });
 * const out = await kms.call("DescribeKey", { KeyId: arn });
 */
export function createJsonClient(service: JsonService, options: AwsClientOptions = {}): JsonClient {
  const env = options.env ?? process.env;
  const credentials = toCredentialsProvider(options.credentials, env);
  const retry = new RetryStrategy(options);
  const timeoutMs = options.attemptTimeoutMs ?? 5000;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const minValidityMs = options.minCredentialValidityMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const label = service.signingName;
  let target: { region: string; url: URL } | undefined;

  const resolveTarget = () => {
    if (target) return target;
    const region = options.region || env.AWS_REGION;
    if (!region) throw new AwsConfigError(`${label}: no region (set the region option or AWS_REGION)`);
    if (!/^[a-z0-9-]{1,50}$/.test(region)) throw new AwsConfigError(`${label}: malformed region`);
    target = { region, url: resolveEndpoint(service, region, options) };
    return target;
  };

  /** One signed attempt: the parsed answer, or the failure to classify. */
  const attempt = async (operation: string, body: string, number: number) => {
    const site = { service: label, operation };
    const { region, url } = resolveTarget();
    const date = now();
    const plain = {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `${service.targetPrefix}.${operation}`,
    };
    // Credentials before anything is built: none, or stale ones, is final — never unsigned, never stale
    // (except for a service whose operations carry their own token).
    const headers = service.unsigned
      ? { host: url.host, ...plain }
      : signRequest(
          {
            method: "POST",
            host: url.host,
            path: `${url.pathname}${url.search}`,
            // Every header set here is signed, content-type included, as the AWS SDK signs it.
            headers: plain,
            body,
            service: service.signingName,
            region,
            date,
          },
          await signingCredentials(credentials, { minValidityMs, now: date.getTime(), label }),
        );
    let res: Answer;
    try {
      res = await send(url, headers, body, { timeoutMs, maxResponseBytes });
    } catch (err) {
      const failure = err instanceof NoAnswer ? err : new NoAnswer("NetworkError", "EIO");
      return {
        error: new AwsNetworkError(site, failure.kind, failure.code, number),
        kind: classify("network"),
      };
    }
    const parsed = parseJson(res.body);
    const id = requestId(res.headers);
    if (res.status >= 200 && res.status < 300) {
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return {
          error: new AwsServiceError(site, "InvalidResponse", res.status, id, number),
          kind: "client" as const,
        };
      }
      return { value: parsed as Record<string, unknown> };
    }
    const code = errorCode(res.headers, parsed) ?? "UnknownError";
    return {
      error: new AwsServiceError(site, code, res.status, id, number),
      kind: classify({ code, statusCode: res.status }),
    };
  };

  return {
    async call(operation, input) {
      const body = JSON.stringify(input);
      let spent = 0;
      for (let number = 1; ; number++) {
        const outcome = await attempt(operation, body, number);
        if ("value" in outcome) {
          retry.recordSuccess(spent);
          return outcome.value as Record<string, unknown>;
        }
        const next = retry.retryAfter(number, outcome.kind);
        if (!next) throw outcome.error;
        spent = next.cost;
        await new Promise((r) => setTimeout(r, next.delayMs));
      }
    },
  };
}
