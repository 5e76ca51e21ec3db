import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { headers as headerNames } from "@veil/core";
import { verifySigV4 } from "../sigv4/index.ts";
import { type GatewayError, gatewayErrors, notAuthorized, sigv4Error } from "./awsErrors.ts";
import { buildContext, buildProxyEvent } from "./event.ts";
import { callerOf, executeApiArn, isAllowedArn } from "./principal.ts";
import { sendError, sendResult, sendStream } from "./respond.ts";
import { RouteTable } from "./routes.ts";
import type { GatewayOptions, GatewayPrincipal, LocalGateway } from "./types.ts";
import { UsagePlan } from "./usagePlan.ts";

/** Headers that must be inside the signature whenever they are present. */
const mustBeSigned = ["x-amz-security-token", "x-amz-content-sha256", "content-type", headerNames.identity];

class TooLarge extends Error {}

/**
 * Starts a local API Gateway (REST, Lambda proxy integration) with API-key and IAM (SigV4) auth.
 *
 * Each request goes through, in order: stage and route match (else 403 `Missing Authentication Token`,
 * API Gateway's answer for unknown paths), API key (403 `Forbidden`), per-key throttle (429), SigV4
 * via `verifySigV4` (403 with API Gateway's wording), the principal allow-list (403 `User: … is not
 * authorized…`), then the handler with a real `APIGatewayProxyEvent`. A handler that throws or returns
 * a malformed result gives 502 `Internal server error`; one past `timeoutMs` gives 504.
 */
export async function startGateway(options: GatewayOptions): Promise<LocalGateway> {
  const now = options.now ?? Date.now;
  const apiId = options.apiId ?? randomApiId();
  const accountId = options.accountId ?? "123456789012";
  const timeoutMs = options.timeoutMs ?? 29_000;
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const plan = new UsagePlan(options.apiKeys, now);
  const routes = new RouteTable(options.routes);
  const stagePrefix = `/${options.stage}`;
  const skipped = new Set(options.disabledChecks ?? []);

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const deny = (error: GatewayError, reason: string) => {
      options.logger?.warn("gateway denied request", { requestId, status: error.status, reason });
      sendError(res, error, requestId);
    };
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const body = await readBody(req, maxBodyBytes);

    const rawPath = url.split("?")[0]!;
    if (rawPath !== stagePrefix && !rawPath.startsWith(`${stagePrefix}/`))
      return deny(gatewayErrors.missingToken, "stage");
    const match = routes.match(method, rawPath.slice(stagePrefix.length));
    if (match === undefined) return deny(gatewayErrors.missingToken, "route");

    const presented = req.headersDistinct["x-api-key"];
    const found = presented?.length === 1 ? plan.find(presented[0]) : undefined;
    const apiKey = found ?? (skipped.has("apiKey") ? { id: "none", value: "" } : undefined);
    if (apiKey === undefined) return deny(gatewayErrors.forbidden, "api-key");
    if (!plan.take(apiKey)) return deny(gatewayErrors.throttled, "throttle");

    let principal: GatewayPrincipal | undefined;
    const at = now();
    const verdict = skipped.has("sigv4")
      ? ({ ok: true, accessKeyId: "none" } as const)
      : await verifySigV4(
          { method, url, headers: req.headersDistinct, body },
          {
            service: "execute-api",
            region: options.region,
            now: new Date(at),
            requireSigned: mustBeSigned,
            ...(skipped.has("signatureFreshness") ? { maxSkewSeconds: 10 * 365 * 86_400 } : {}),
            secretFor: async (accessKeyId) => {
              principal = await options.principals(accessKeyId);
              return principal?.secret;
            },
          },
        );
    if (!verdict.ok) return deny(sigv4Error(verdict.reason, claimedTime(req), at), `sigv4:${verdict.reason}`);
    if (skipped.has("sigv4")) principal ??= { secret: "", arn: `arn:aws:iam::${accountId}:user/anonymous` };
    if (principal === undefined) return deny(gatewayErrors.unknownKey, "principal");

    const resourceArn = executeApiArn({
      region: options.region,
      accountId,
      apiId,
      stage: options.stage,
      method,
      path: rawPath.slice(stagePrefix.length),
    });
    // Without IAM auth (sigv4 off) there is no caller for the allow-list to judge, as with authorization NONE.
    const judged = !skipped.has("sigv4") && !skipped.has("principalAllowList");
    if (judged && !isAllowedArn(principal.arn, options.allowedPrincipalArns)) {
      return deny(notAuthorized(principal.arn, resourceArn), "principal-not-allowed");
    }

    const event = buildProxyEvent({
      method,
      url,
      stage: options.stage,
      rawHeaders: req.rawHeaders,
      body,
      resource: match.route.resource,
      pathParameters: match.pathParameters,
      requestId,
      requestTimeEpoch: at,
      accountId,
      apiId,
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      apiKey,
      caller: { accessKey: verdict.accessKeyId, userArn: principal.arn, ...callerOf(principal.arn) },
    });
    const functionName =
      match.route.functionName ??
      `${match.route.method}${match.route.resource}`.replace(/[^A-Za-z0-9-_]+/g, "-");
    const context = buildContext(functionName, options.region, accountId, now() + timeoutMs, now);

    if (match.route.streamHandler) {
      return sendStream(res, match.route.streamHandler(event, context), requestId, timeoutMs, (reason) =>
        options.logger?.error("streamed handler failed", { requestId, functionName, error: reason }),
      );
    }

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      match.route.handler(event, context).then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      ),
      new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));

    if (outcome === "timeout") return deny(gatewayErrors.timeout, "timeout");
    if ("error" in outcome) {
      const name = outcome.error instanceof Error ? outcome.error.name : typeof outcome.error;
      options.logger?.error("handler failed", { requestId, functionName, error: name });
      return sendError(res, gatewayErrors.internal, requestId);
    }
    if (!sendResult(res, outcome.result, requestId)) {
      options.logger?.error("malformed handler result", { requestId, functionName });
      sendError(res, gatewayErrors.internal, requestId);
    }
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId).catch((error: unknown) => {
      if (error instanceof TooLarge) return sendError(res, gatewayErrors.tooLarge, requestId, true);
      options.logger?.error("gateway failure", {
        requestId,
        error: error instanceof Error ? error.name : "unknown",
      });
      if (!res.headersSent) sendError(res, gatewayErrors.internal, requestId);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}${stagePrefix}`,
    origin,
    apiId,
    setApiKeys: (keys) => plan.setKeys(keys),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** The client's claimed signing time, only to word a skew error like AWS does. */
function claimedTime(req: IncomingMessage): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    req.headersDistinct["x-amz-date"]?.[0] ?? "",
  );
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!);
}

function randomApiId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join("");
}
