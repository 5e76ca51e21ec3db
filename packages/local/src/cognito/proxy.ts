import { createPublicKey, verify } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Jwks, jwtClaims, originJtiOf } from "./signing-key.ts";

/** What the proxy in front of cognito-local needs to know. */
export interface ProxyOptions {
  /** cognito-local's own URL. */
  readonly upstream: string;
  readonly issuer: string;
  readonly userPoolId: string;
  readonly jwks: Jwks;
  /** Origins allowed to call from a browser; `undefined` allows loopback origins (any port). */
  readonly allowedOrigins?: readonly string[];
  /** Clock to judge token expiry by. Default: the real time. */
  readonly now?: () => Date;
  /** Signs the claims of a token again with the pool's key, with `claims` added. */
  readonly resign: (token: string, claims: Record<string, unknown>) => string;
}

const TARGET_PREFIX = "AWSCognitoIdentityProviderService.";
const MAX_BODY_BYTES = 1024 * 1024;
const LOOPBACK_ORIGIN = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
const ALLOWED_HEADERS =
  "content-type, x-amz-target, x-amz-user-agent, x-amz-date, amz-sdk-invocation-id, amz-sdk-request, authorization, cache-control";

/**
 * An HTTP handler in front of cognito-local that makes it look more like Cognito to Amplify and our code:
 * - answers CORS itself, only for allowed origins (a request from any other origin is refused);
 * - turns `GetTokensFromRefreshToken` (Amplify >= 6.15 refreshes with it; cognito-local lacks it) into
 *   `InitiateAuth` with `REFRESH_TOKEN_AUTH`;
 * - gives the tokens of a refresh the `origin_jti` of the refresh token presented, so it stays the same
 *   for the whole sign-in (cognito-local calls its token generator without it);
 * - serves the JWKS and OpenID configuration of our signing key under the pool's path;
 * - verifies the `AccessToken` of the user's own operations (`GetUser`, `DeleteUser`, …) as Cognito
 *   does — signature, issuer, `token_use`, expiry — where cognito-local only decodes it (anyone could
 *   otherwise delete any user with a token they made up).
 * Everything else goes to cognito-local unchanged.
 */
export function createCognitoProxy(options: ProxyOptions): Server {
  const originAllowed = (origin: string) =>
    options.allowedOrigins === undefined
      ? LOOPBACK_ORIGIN.test(origin)
      : options.allowedOrigins.includes(origin);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!originAllowed(origin))
        return json(res, 403, { __type: "ForbiddenException", message: "Origin not allowed" });
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
    }
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? ALLOWED_HEADERS,
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === `/${options.userPoolId}/.well-known/jwks.json`) {
      return json(res, 200, options.jwks, "application/json");
    }
    if (req.method === "GET" && path === `/${options.userPoolId}/.well-known/openid-configuration`) {
      const host = req.headers.host ?? "localhost";
      return json(
        res,
        200,
        {
          issuer: options.issuer,
          jwks_uri: `http://${host}/${options.userPoolId}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ["RS256"],
        },
        "application/json",
      );
    }

    let body = await readBody(req);
    const target = req.headers["x-amz-target"];
    let rewritten = false;
    let refreshToken: string | undefined;
    const headers: Record<string, string> = {};
    for (const name of ["content-type", "x-amz-target", "authorization"]) {
      const value = req.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    if (req.method === "POST" && !accessTokenValid(body, options)) {
      return json(res, 400, { __type: "NotAuthorizedException", message: "Invalid Access Token" });
    }
    if (req.method === "POST" && target === `${TARGET_PREFIX}GetTokensFromRefreshToken`) {
      let input: { RefreshToken?: string; ClientId?: string };
      try {
        input = JSON.parse(body.toString("utf8"));
      } catch {
        return json(res, 400, { __type: "InvalidParameterException", message: "Request body is not JSON" });
      }
      body = Buffer.from(
        JSON.stringify({
          AuthFlow: "REFRESH_TOKEN_AUTH",
          ClientId: input.ClientId,
          AuthParameters: { REFRESH_TOKEN: input.RefreshToken },
        }),
      );
      headers["x-amz-target"] = `${TARGET_PREFIX}InitiateAuth`;
      rewritten = true;
    }
    if (req.method === "POST" && headers["x-amz-target"] === `${TARGET_PREFIX}InitiateAuth`) {
      refreshToken = presentedRefreshToken(body);
    }
    const upstream = await fetch(`${options.upstream}${req.url ?? "/"}`, {
      method: req.method ?? "GET",
      headers,
      ...(req.method === "GET" || req.method === "HEAD" ? {} : { body }),
      redirect: "manual",
    });
    let answer: Buffer = Buffer.from(await upstream.arrayBuffer());
    if (!upstream.ok && target === `${TARGET_PREFIX}InitiateAuth`) answer = hideUserExistence(answer);
    if (refreshToken !== undefined && upstream.ok)
      answer = withOriginJti(answer, refreshToken, options.resign);
    if (rewritten && upstream.ok) {
      // GetTokensFromRefreshToken answers only the tokens, never a challenge.
      const { AuthenticationResult } = JSON.parse(answer.toString("utf8")) as {
        AuthenticationResult?: unknown;
      };
      answer = Buffer.from(JSON.stringify({ AuthenticationResult }));
    }
    const contentType = upstream.headers.get("content-type");
    const location = upstream.headers.get("location");
    res.writeHead(upstream.status, {
      ...(contentType !== null && { "content-type": contentType }),
      ...(location !== null && { location }),
      "content-length": answer.length,
    });
    res.end(answer);
  }

  return createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        json(res, 500, { __type: "InternalErrorException", message: "Local Cognito proxy failed." });
      else res.destroy();
    });
  });
}

/**
 * False when the request carries an `AccessToken` that is not one of ours: bad signature, another
 * issuer, not an access token, or expired. Requests without one pass (they are not token-authorised).
 */
function accessTokenValid(body: Buffer, options: ProxyOptions): boolean {
  let token: unknown;
  try {
    token = (JSON.parse(body.toString("utf8")) as { AccessToken?: unknown }).AccessToken;
  } catch {
    return true;
  }
  if (token === undefined) return true;
  if (typeof token !== "string") return false;
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return false;
  try {
    const { kid, alg } = JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as Record<
      string,
      unknown
    >;
    const jwk = options.jwks.keys.find((k) => k.kid === kid);
    if (!jwk || alg !== "RS256") return false;
    const key = createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: "jwk" });
    if (!verify("sha256", Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, "base64url")))
      return false;
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    const now = (options.now ?? (() => new Date()))().getTime() / 1000;
    return claims.iss === options.issuer && claims.token_use === "access" && Number(claims.exp) > now;
  } catch {
    return false;
  }
}

/**
 * Cognito answers a wrong password and an unknown user alike (`NotAuthorizedException`, user-existence
 * errors prevented, the default for app clients); cognito-local tells them apart. Same answer here.
 */
function hideUserExistence(answer: Buffer): Buffer {
  let error: { __type?: string };
  try {
    error = JSON.parse(answer.toString("utf8"));
  } catch {
    return answer;
  }
  if (error.__type !== "InvalidPasswordException" && error.__type !== "UserNotFoundException") return answer;
  return Buffer.from(
    JSON.stringify({ __type: "NotAuthorizedException", message: "Incorrect username or password." }),
  );
}

function json(res: ServerResponse, status: number, body: unknown, type = "application/x-amz-json-1.1"): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The refresh token of an `InitiateAuth` with `REFRESH_TOKEN_AUTH` (or `REFRESH_TOKEN`), if it is one. */
function presentedRefreshToken(body: Buffer): string | undefined {
  try {
    const input = JSON.parse(body.toString("utf8")) as {
      AuthFlow?: unknown;
      AuthParameters?: { REFRESH_TOKEN?: unknown };
    };
    const token = input.AuthParameters?.REFRESH_TOKEN;
    const refresh = input.AuthFlow === "REFRESH_TOKEN_AUTH" || input.AuthFlow === "REFRESH_TOKEN";
    return refresh && typeof token === "string" ? token : undefined;
  } catch {
    return undefined;
  }
}

/** The answer with its access and id tokens carrying the `origin_jti` of the sign-in they refresh. */
function withOriginJti(answer: Buffer, refreshToken: string, resign: ProxyOptions["resign"]): Buffer {
  const parsed = JSON.parse(answer.toString("utf8")) as {
    AuthenticationResult?: { AccessToken?: string; IdToken?: string };
  };
  const result = parsed.AuthenticationResult;
  if (!result) return answer;
  jwtClaims(refreshToken); // throws on a malformed token (the upstream accepted it, so it is not)
  const origin = { origin_jti: originJtiOf(refreshToken) };
  if (result.AccessToken) result.AccessToken = resign(result.AccessToken, origin);
  if (result.IdToken) result.IdToken = resign(result.IdToken, origin);
  return Buffer.from(JSON.stringify(parsed));
}
