import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { startEmulator } from "./emulator.ts";
import { createCognitoProxy } from "./proxy.ts";
import { type Jwks, jwtClaims, loadOrCreateSigningKey } from "./signing-key.ts";

/** Options of {@link startLocalCognito}. */
export interface LocalCognitoOptions {
  /** Port of the endpoint browsers and tests use; default 0 (ephemeral). */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** State folder; the local Cognito keeps everything under `<stateDir>/cognito`. */
  readonly stateDir: string;
  /** Region in the pool id and the token issuer, e.g. `eu-central-2`. */
  readonly region: string;
  /** Origins allowed to call from a browser (e.g. the local CloudFront origin). Default: any loopback origin. */
  readonly allowedOrigins?: readonly string[];
  /** Clock for token times (`iat`, `exp`). Default: the real time. */
  readonly clock?: () => Date;
}

/** A running local Cognito user pool. */
export interface LocalCognito {
  /** `http://host:port`: the user-pool endpoint (Amplify's `userPoolEndpoint`, the SDK's `endpoint`). */
  readonly endpoint: string;
  readonly region: string;
  /** In AWS format, `<region>_<id>`, stable across restarts. */
  readonly userPoolId: string;
  /** The app client (no secret; USER_PASSWORD_AUTH and REFRESH_TOKEN_AUTH), stable across restarts. */
  readonly clientId: string;
  /** `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`, as in AWS. */
  readonly issuer: string;
  /** The keys tokens are signed with; give them to `CognitoJwtVerifier#cacheJwks`. */
  readonly jwks: Jwks;
  stop(): Promise<void>;
}

/**
 * Starts a local Cognito user pool: cognito-local (in-process) behind a small proxy that answers CORS,
 * supports `GetTokensFromRefreshToken`, and serves the JWKS. Sign-ups are confirmed at once. Tokens carry
 * the AWS issuer and are signed with a key kept in the state folder, so the production
 * `CognitoJwtVerifier` verifies them once given {@link LocalCognito.jwks}.
 *
 * @example
 * const cognito = await startLocalCognito({ stateDir, region: "eu-central-2" });
 * const verifier = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, tokenUse: "access", clientId: cognito.clientId });
 * verifier.cacheJwks(cognito.jwks);
 */
export async function startLocalCognito(options: LocalCognitoOptions): Promise<LocalCognito> {
  const dir = join(options.stateDir, "cognito");
  const key = loadOrCreateSigningKey(join(dir, "signing-key.pem"));
  const emulator = await startEmulator({
    dir,
    region: options.region,
    key,
    now: options.clock ?? (() => new Date()),
  });
  const issuer = `https://cognito-idp.${options.region}.amazonaws.com/${emulator.userPoolId}`;
  const proxy = createCognitoProxy({
    upstream: emulator.url,
    issuer,
    userPoolId: emulator.userPoolId,
    jwks: key.jwks,
    allowedOrigins: options.allowedOrigins,
    ...(options.clock ? { now: options.clock } : {}),
    resign: (token, claims) => key.signJwt({ ...jwtClaims(token), ...claims }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      proxy.once("error", reject);
      proxy.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
    });
  } catch (err) {
    await emulator.stop();
    throw err;
  }
  const address = proxy.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    endpoint: `http://${host}:${address.port}`,
    region: options.region,
    userPoolId: emulator.userPoolId,
    clientId: emulator.clientId,
    issuer,
    jwks: key.jwks,
    async stop() {
      await new Promise<void>((resolve, reject) => {
        proxy.close((err) => (err ? reject(err) : resolve()));
        proxy.closeAllConnections();
      });
      await emulator.stop();
    },
  };
}
