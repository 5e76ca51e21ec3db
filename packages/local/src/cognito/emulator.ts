import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Router } from "cognito-local/lib/server/Router.js";
import { createServer } from "cognito-local/lib/server/server.js";
import { CognitoServiceFactoryImpl } from "cognito-local/lib/services/cognitoService.js";
import type { Context } from "cognito-local/lib/services/context.js";
import { StormDBDataStoreFactory } from "cognito-local/lib/services/dataStore/stormDb.js";
import type { Services } from "cognito-local/lib/services/index.js";
import { otp } from "cognito-local/lib/services/otp.js";
import { JwtTokenGenerator, type TokenGenerator } from "cognito-local/lib/services/tokenGenerator.js";
import type { Triggers } from "cognito-local/lib/services/triggers/index.js";
import { UserPoolServiceFactoryImpl } from "cognito-local/lib/services/userPoolService.js";
import { jwtClaims, originJtiOf, type SigningKey } from "./signing-key.ts";

/** The pool and app client the local stack seeds once and keeps. */
export interface SeededPool {
  readonly userPoolId: string;
  readonly clientId: string;
}

export interface Emulator extends SeededPool {
  /** `http://127.0.0.1:<port>` of cognito-local itself (behind the proxy). */
  readonly url: string;
  stop(): Promise<void>;
}

/** cognito-local's dependencies resolve from its own folder, so its logger comes from there too. */
const requireFromCognitoLocal = createRequire(createRequire(import.meta.url).resolve("cognito-local"));

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const randomId = (length: number, alphabet: string) =>
  Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join("");

/**
 * Sign-ups are confirmed and their e-mail marked verified at once: sending codes is AWS's job, and the
 * local stack has no mailbox. cognito-local's own PreSignUp hook does it; no Lambda involved.
 */
const autoConfirmTriggers: Triggers = {
  enabled: (trigger) => trigger === "PreSignUp",
  preSignUp: async () => ({ autoConfirmUser: true, autoVerifyEmail: true, autoVerifyPhone: false }),
  customMessage: () => Promise.reject(new Error("trigger not enabled")),
  customEmailSender: () => Promise.reject(new Error("trigger not enabled")),
  postAuthentication: () => Promise.reject(new Error("trigger not enabled")),
  postConfirmation: () => Promise.reject(new Error("trigger not enabled")),
  preTokenGeneration: () => Promise.reject(new Error("trigger not enabled")),
  userMigration: () => Promise.reject(new Error("trigger not enabled")),
};

/** cognito-local's token claims, signed with our key instead of the one in its npm package. */
class ResigningTokenGenerator implements TokenGenerator {
  constructor(
    private readonly inner: TokenGenerator,
    private readonly key: SigningKey,
  ) {}

  async generate(...args: Parameters<TokenGenerator["generate"]>) {
    const tokens = await this.inner.generate(...args);
    // A sign-in's session id, from its new refresh token. A refresh discards the refresh token made
    // here; the proxy then sets the id of the refresh token presented (proxy.ts).
    const origin = { origin_jti: originJtiOf(tokens.RefreshToken) };
    return {
      AccessToken: this.key.signJwt({ ...jwtClaims(tokens.AccessToken), ...origin }),
      IdToken: this.key.signJwt({ ...jwtClaims(tokens.IdToken), ...origin }),
      RefreshToken: this.key.signJwt(jwtClaims(tokens.RefreshToken)),
    };
  }
}

/**
 * Starts cognito-local in-process on an ephemeral loopback port, with its data in `<dir>/db`, our
 * signing key, the AWS issuer of `region` (so production verifiers accept its tokens), auto-confirmed
 * sign-ups, and one pool + app client seeded on first start and reused after.
 */
export async function startEmulator(options: {
  dir: string;
  region: string;
  key: SigningKey;
  now: () => Date;
}): Promise<Emulator> {
  const dataDir = join(options.dir, "db");
  const pino = requireFromCognitoLocal("pino") as (opts: object) => Parameters<typeof createServer>[1];
  const logger = pino({ level: "silent" });
  const ctx: Context = { logger };
  const clock = { get: options.now };
  const dataStores = new StormDBDataStoreFactory(dataDir);
  const config = {
    LambdaClient: {},
    TriggerFunctions: {},
    UserPoolDefaults: { UsernameAttributes: ["email"] },
    TokenConfig: { IssuerDomain: `https://cognito-idp.${options.region}.amazonaws.com` },
    ServerConfig: { port: 0, hostname: "127.0.0.1", development: false, https: false },
  } as unknown as Services["config"];
  const cognito = await new CognitoServiceFactoryImpl(
    dataDir,
    dataStores,
    new UserPoolServiceFactoryImpl(clock, dataStores),
  ).create(ctx, config.UserPoolDefaults);
  const services: Services = {
    clock,
    cognito,
    config,
    messages: { deliver: async () => {} },
    otp,
    tokenGenerator: new ResigningTokenGenerator(
      new JwtTokenGenerator(clock, autoConfirmTriggers, config.TokenConfig),
      options.key,
    ),
    triggers: autoConfirmTriggers,
  };

  const pool = await seedPool(options.dir, options.region, services, ctx);
  const server = (await createServer(
    Router(services),
    logger,
    config.ServerConfig,
    services,
  ).start()) as Server;
  const { port } = server.address() as AddressInfo;
  return {
    ...pool,
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Creates the pool and client once (ids in AWS format), recording their ids in `<dir>/pool.json`. */
async function seedPool(dir: string, region: string, services: Services, ctx: Context): Promise<SeededPool> {
  const file = join(dir, "pool.json");
  let seeded: SeededPool;
  try {
    seeded = JSON.parse(readFileSync(file, "utf8")) as SeededPool;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    seeded = {
      userPoolId: `${region}_${randomId(9, ALNUM)}`,
      clientId: randomId(26, "abcdefghijklmnopqrstuvwxyz0123456789"),
    };
  }
  const pools = await services.cognito.listUserPools(ctx);
  if (!pools.some((p) => p.Id === seeded.userPoolId)) {
    const now = services.clock.get();
    await services.cognito.createUserPool(ctx, {
      Id: seeded.userPoolId,
      Name: "veil-local",
      Arn: `arn:aws:cognito-idp:${region}:000000000000:userpool/${seeded.userPoolId}`,
      UsernameAttributes: ["email"],
      CreationDate: now,
      LastModifiedDate: now,
    });
  }
  const userPool = await services.cognito.getUserPool(ctx, seeded.userPoolId);
  if (!(await services.cognito.getAppClient(ctx, seeded.clientId))) {
    const now = services.clock.get();
    await userPool.saveAppClient(ctx, {
      ClientId: seeded.clientId,
      ClientName: "veil-web",
      UserPoolId: seeded.userPoolId,
      CreationDate: now,
      LastModifiedDate: now,
      ExplicitAuthFlows: ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      RefreshTokenValidity: 30,
      TokenValidityUnits: { AccessToken: "minutes", IdToken: "minutes", RefreshToken: "days" },
      EnableTokenRevocation: true,
    });
  }
  writeFileSync(file, JSON.stringify(seeded, null, 2), { mode: 0o600 });
  return seeded;
}
