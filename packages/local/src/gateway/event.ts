import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import type { ApiKey } from "./usagePlan.ts";

/** Everything known about one verified request, from which the proxy event is built. */
export interface EventInput {
  readonly method: string;
  /** Raw request target, with the stage: `/prod/api/records/1?x=y`. */
  readonly url: string;
  readonly stage: string;
  /** Node's `rawHeaders` (name, value, name, value…), so the client's header case survives. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly resource: string;
  readonly pathParameters: Record<string, string> | null;
  readonly requestId: string;
  readonly requestTimeEpoch: number;
  readonly accountId: string;
  readonly apiId: string;
  readonly sourceIp: string;
  readonly apiKey: ApiKey;
  readonly caller: { accessKey: string; accountId: string | null; caller: string; userArn: string };
}

// Bodies of these types reach the handler as text; everything else base64 (like binaryMediaTypes */*
// minus the text types the app uses).
const textType = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript|[\w.+-]+\+(json|xml))\b)/i;

/** Builds the REST API (v1) Lambda proxy event, as API Gateway sends it. */
export function buildProxyEvent(input: EventInput): APIGatewayProxyEvent {
  const q = input.url.indexOf("?");
  const fullPath = q < 0 ? input.url : input.url.slice(0, q);
  const path = fullPath.slice(input.stage.length + 1) || "/";

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const caseOf = new Map<string, string>();
  for (let i = 0; i + 1 < input.rawHeaders.length; i += 2) {
    const raw = input.rawHeaders[i]!;
    const name = caseOf.get(raw.toLowerCase()) ?? raw;
    caseOf.set(raw.toLowerCase(), name);
    headers[name] = input.rawHeaders[i + 1]!;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), input.rawHeaders[i + 1]!];
  }

  let query: Record<string, string> | null = null;
  let multiQuery: Record<string, string[]> | null = null;
  for (const [k, v] of new URLSearchParams(q < 0 ? "" : input.url.slice(q + 1))) {
    query ??= {};
    multiQuery ??= {};
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }

  const lower = (name: string) => headers[caseOf.get(name) ?? name];
  const contentType = lower("content-type") ?? "";
  const hasBody = input.body.length > 0;
  const isBase64Encoded = hasBody && !textType.test(contentType);
  const when = new Date(input.requestTimeEpoch);

  return {
    resource: input.resource,
    path,
    httpMethod: input.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query,
    multiValueQueryStringParameters: multiQuery,
    pathParameters: input.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      authorizer: null,
      domainName: lower("host"),
      domainPrefix: lower("host")?.split(".")[0],
      extendedRequestId: randomUUID(),
      httpMethod: input.method,
      identity: {
        accessKey: input.caller.accessKey,
        accountId: input.caller.accountId,
        apiKey: input.apiKey.value,
        apiKeyId: input.apiKey.id,
        caller: input.caller.caller,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: input.sourceIp,
        user: input.caller.caller,
        userAgent: lower("user-agent") ?? null,
        userArn: input.caller.userArn,
      },
      path: fullPath,
      protocol: "HTTP/1.1",
      requestId: input.requestId,
      requestTime: requestTime(when),
      requestTimeEpoch: input.requestTimeEpoch,
      resourceId:
        input.resource
          .replace(/[^a-z0-9]/gi, "")
          .slice(0, 6)
          .toLowerCase() || "root",
      resourcePath: input.resource,
      stage: input.stage,
    },
    body: hasBody ? input.body.toString(isBase64Encoded ? "base64" : "utf8") : null,
    isBase64Encoded,
  };
}

/** A Lambda-like context for one invocation with a deadline. */
export function buildContext(
  functionName: string,
  region: string,
  accountId: string,
  deadline: number,
  now: () => number,
): Context {
  const noop = () => undefined;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}`,
    memoryLimitInMB: "1024",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replace(/-/g, "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    done: noop,
    fail: noop,
    succeed: noop,
  };
}

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `09/Apr/2015:12:34:56 +0000`, API Gateway's `requestTime`. */
function requestTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
