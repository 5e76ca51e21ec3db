import type { Readable } from "node:stream";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";

/** A Lambda proxy-integration handler, called exactly as API Gateway (REST) calls it. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * A Lambda proxy integration in `STREAM` response transfer mode: the function's response stream as
 * `InvokeWithResponseStream` returns it — JSON metadata (`statusCode`, `headers`, `multiValueHeaders`,
 * `cookies`), 8 NUL bytes, then the body.
 */
export type StreamingProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<Readable>;

/** One method on one resource, e.g. `{ method: "GET", resource: "/api/records/{id}" }`. */
export interface GatewayRoute {
  /** HTTP method, or `ANY`. */
  readonly method: string;
  /** Resource path template: literal segments, `{name}`, and a final greedy `{name+}`. */
  readonly resource: string;
  readonly handler: ProxyHandler;
  /** When set, the integration streams (`responseTransferMode: STREAM`) and `handler` is not called. */
  readonly streamHandler?: StreamingProxyHandler;
  /** Name shown as `context.functionName`. Default derived from method and resource. */
  readonly functionName?: string;
}

/** The usage plan: the keys that may call, and their per-key throttle. */
export interface ApiKeyPlan {
  /** Valid keys; a plain string gets an id derived from it. */
  readonly keys: ReadonlyArray<string | { readonly id: string; readonly value: string }>;
  /** Token bucket per key: `rateLimit` requests/second refill, `burstLimit` capacity. */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
}

/** A caller the gateway can authenticate: its SigV4 secret and the IAM ARN it acts as. */
export interface GatewayPrincipal {
  readonly secret: string;
  /** e.g. `arn:aws:sts::123456789012:assumed-role/EdgeSigner/us-east-1.edge-fn`. */
  readonly arn: string;
}

/** Where the gateway reports denials and handler failures. Never given secrets, tokens or bodies. */
export interface GatewayLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of `startGateway`. */
export interface GatewayOptions {
  /** Default 0 (an ephemeral port). */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Stage name; every path starts with `/<stage>`. */
  readonly stage: string;
  /** Region the SigV4 scope must name. */
  readonly region: string;
  readonly apiKeys: ApiKeyPlan;
  /** Looks up a caller by access key id; `undefined` means the key is unknown. */
  readonly principals: (
    accessKeyId: string,
  ) => GatewayPrincipal | undefined | Promise<GatewayPrincipal | undefined>;
  /** Who may invoke (`execute-api:Invoke`); `*` matches any run of characters, e.g. `…/EdgeSigner/*`. */
  readonly allowedPrincipalArns: readonly string[];
  readonly routes: readonly GatewayRoute[];
  readonly logger?: GatewayLogger;
  /** Shown in ARNs and the event. Default `123456789012`. */
  readonly accountId?: string;
  /** Shown in ARNs and the event. Default: 10 random lower-case characters. */
  readonly apiId?: string;
  /** Handler time limit (API Gateway: 29 s). Past it the caller gets 504. */
  readonly timeoutMs?: number;
  /** Largest request body (API Gateway: 10 MB). Past it the caller gets 413. */
  readonly maxBodyBytes?: number;
  /** Clock for SigV4 skew and throttling; for tests. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Test only: checks to skip, so a proof test can show that the matching security test then fails.
   * The local stack passes it only inside a test run (see `startLocalStack`).
   */
  readonly disabledChecks?: readonly GatewayCheck[];
}

/** The gateway's own security checks, each of which a test may switch off. */
export type GatewayCheck = "apiKey" | "sigv4" | "signatureFreshness" | "principalAllowList";

/** A running gateway. */
export interface LocalGateway {
  /** Base URL including the stage, e.g. `http://127.0.0.1:53211/prod`. */
  readonly url: string;
  /** `http://host:port` without the stage. */
  readonly origin: string;
  readonly apiId: string;
  /** Replaces the usage plan's keys at run time (key rotation); throttle state of kept keys survives. */
  setApiKeys(keys: ApiKeyPlan["keys"]): void;
  stop(): Promise<void>;
}
