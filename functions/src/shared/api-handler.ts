import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { Caller, VerifyCaller } from "./auth.ts";
import { HttpError } from "./errors.ts";
import { errorResponse } from "./http.ts";
import type { AnswerSealer } from "./sealing.ts";

/** What every route gets: the deps, the verified caller, the event and its request id. */
export interface ApiRouteInput<D> {
  readonly deps: D;
  readonly caller: Caller;
  readonly event: APIGatewayProxyEvent;
  readonly requestId: string;
}

export type ApiRoute<D> = (input: ApiRouteInput<D>) => Promise<APIGatewayProxyResult>;

/** The three levels a handler logs at (a Powertools Logger, or a wrapper of one). */
export interface ApiLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** What every API function's deps provide: the caller verifier and the answer sealer. */
export interface ApiDeps {
  readonly verifyCaller: VerifyCaller;
  readonly sealer: AnswerSealer;
}

export interface ApiHandlerOptions<D extends ApiDeps> {
  /** `"METHOD /resource"` → route. */
  readonly routes: Readonly<Record<string, ApiRoute<D> | undefined>>;
  /** Builds the deps; called on the first request, and again after a failed build. */
  readonly deps: () => Promise<D>;
  /** Maps anything thrown to a safe HTTP error (a typed status, a value-free message). */
  readonly toHttpError: (err: unknown) => HttpError;
  readonly logger: ApiLogger;
}

/**
 * Builds an API Gateway (REST, proxy integration) handler: route by resource, build deps lazily (outside
 * the hot path, retried after a failure), verify the caller and its proof, run the route, seal every
 * 2xx answer with a body to the caller's key (`deps.sealer`), answer errors unsealed with a request id
 * and no details, and log one line per request (route, status, time, error type — never a value).
 * A sealing failure is a 500: an answer never leaves in clear.
 */
export function createApiHandler<D extends ApiDeps>(options: ApiHandlerOptions<D>) {
  let deps: Promise<D> | undefined;
  const getDeps = () => {
    deps ??= options.deps().catch((err: unknown) => {
      deps = undefined;
      throw err;
    });
    return deps;
  };
  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const key = `${event.httpMethod} ${event.resource}`;
    const started = Date.now();
    let result: APIGatewayProxyResult;
    let failure: string | undefined;
    try {
      const route = options.routes[key];
      if (!route) throw new HttpError(404, "NotFound", "No such route");
      const d = await getDeps();
      const caller = await d.verifyCaller(event);
      result = await d.sealer.seal(await route({ deps: d, caller, event, requestId }), caller);
    } catch (err) {
      failure =
        err instanceof Error ? `${err.name}${"code" in err ? `:${String(err.code)}` : ""}` : "unknown";
      result = errorResponse(options.toHttpError(err), requestId);
    }
    const line = {
      route: key,
      status: result.statusCode,
      ms: Date.now() - started,
      requestId,
      awsRequestId: context.awsRequestId,
    };
    if (result.statusCode >= 500) options.logger.error("request failed", { ...line, error: failure });
    else if (failure) options.logger.warn("request rejected", { ...line, error: failure });
    else options.logger.info("request", line);
    return result;
  };
}
