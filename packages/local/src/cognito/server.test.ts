import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CognitoIdentityProviderClient,
  GetTokensFromRefreshTokenCommand,
  GetUserCommand,
  InitiateAuthCommand,
  SignUpCommand,
} from "@aws-sdk/client-cognito-identity-provider";
import { CognitoJwtVerifier } from "aws-jwt-verify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CognitoCallError } from "./errors.ts";
import {
  type LocalCognito,
  type LocalCognitoOptions,
  signIn,
  signUpAndSignIn,
  startLocalCognito,
} from "./index.ts";
import { jwtClaims } from "./signing-key.ts";

const REGION = "eu-central-2";
const USER = { email: "ada@example.test", password: "Corr3ct-Horse!" };

function sdk(cognito: LocalCognito) {
  return new CognitoIdentityProviderClient({
    endpoint: cognito.endpoint,
    region: cognito.region,
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
    maxAttempts: 1,
  });
}

/** The production verifier, with the local JWKS injected instead of fetched. */
function verifier(cognito: LocalCognito, tokenUse: "access" | "id", clientId = cognito.clientId) {
  const v = CognitoJwtVerifier.create({ userPoolId: cognito.userPoolId, tokenUse, clientId });
  v.cacheJwks(cognito.jwks);
  return v;
}

/** A JWT with the given claims and kid, signed with `key`. */
function forge(claims: Record<string, unknown>, kid: string, key: KeyObject): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${enc({ alg: "RS256", typ: "JWT", kid })}.${enc(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

describe("local Cognito", () => {
  let stateDir: string;
  let cognito: LocalCognito;
  const start = (extra: Partial<LocalCognitoOptions> = {}) =>
    startLocalCognito({ stateDir, region: REGION, ...extra });

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "veil-cognito-"));
    cognito = await start();
  });
  afterEach(async () => {
    await cognito.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("seeds a pool with an AWS-format id and the AWS issuer", () => {
    expect(cognito.userPoolId).toMatch(/^eu-central-2_[A-Za-z0-9]{9}$/);
    expect(cognito.clientId).toMatch(/^[a-z0-9]{26}$/);
    expect(cognito.issuer).toBe(`https://cognito-idp.eu-central-2.amazonaws.com/${cognito.userPoolId}`);
    expect(cognito.jwks.keys).toHaveLength(1);
  });

  it("confirms sign-ups at once; the tokens pass the production verifier", async () => {
    const client = sdk(cognito);
    const up = await client.send(
      new SignUpCommand({
        ClientId: cognito.clientId,
        Username: USER.email,
        Password: USER.password,
        UserAttributes: [{ Name: "email", Value: USER.email }],
      }),
    );
    expect(up.UserConfirmed).toBe(true);
    const auth = await client.send(
      new InitiateAuthCommand({
        ClientId: cognito.clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: USER.email, PASSWORD: USER.password },
      }),
    );
    const result = auth.AuthenticationResult!;
    const access = await verifier(cognito, "access").verify(result.AccessToken!);
    expect(access).toMatchObject({
      client_id: cognito.clientId,
      token_use: "access",
      iss: cognito.issuer,
      sub: up.UserSub,
    });
    const id = await verifier(cognito, "id").verify(result.IdToken!);
    expect(id).toMatchObject({ email: USER.email, email_verified: true, aud: cognito.clientId });

    const me = await client.send(new GetUserCommand({ AccessToken: result.AccessToken }));
    expect(me.UserAttributes?.find((a) => a.Name === "email")?.Value).toBe(USER.email);

    const wrongPassword = await signIn(cognito.endpoint, cognito.clientId, {
      ...USER,
      password: "nope",
    }).catch((e) => e);
    expect(wrongPassword).toBeInstanceOf(CognitoCallError);
    expect(wrongPassword.type).toBe("NotAuthorizedException");
  });

  it("refreshes with GetTokensFromRefreshToken (rewritten to REFRESH_TOKEN_AUTH)", async () => {
    const tokens = await signUpAndSignIn(cognito.endpoint, cognito.clientId, USER);
    const refreshed = await sdk(cognito).send(
      new GetTokensFromRefreshTokenCommand({ ClientId: cognito.clientId, RefreshToken: tokens.refreshToken }),
    );
    const access = refreshed.AuthenticationResult?.AccessToken;
    expect(access).toBeDefined();
    expect(access).not.toBe(tokens.accessToken);
    await expect(verifier(cognito, "access").verify(access!)).resolves.toMatchObject({ token_use: "access" });

    const bogus = await sdk(cognito)
      .send(new GetTokensFromRefreshTokenCommand({ ClientId: cognito.clientId, RefreshToken: "not-a-token" }))
      .catch((e: Error) => e);
    expect(bogus).toMatchObject({ name: "NotAuthorizedException" });
  });

  it("gives access tokens an origin_jti: new per sign-in, the same across refreshes of one sign-in", async () => {
    const first = await signUpAndSignIn(cognito.endpoint, cognito.clientId, USER);
    const second = await signIn(cognito.endpoint, cognito.clientId, USER);
    const origin = (token: string | undefined) => jwtClaims(token ?? "").origin_jti;
    expect(origin(first.accessToken)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(origin(first.idToken)).toBe(origin(first.accessToken));
    expect(origin(second.accessToken)).not.toBe(origin(first.accessToken));
    const viaSdk = await sdk(cognito).send(
      new GetTokensFromRefreshTokenCommand({ ClientId: cognito.clientId, RefreshToken: first.refreshToken }),
    );
    const viaInitiate = await sdk(cognito).send(
      new InitiateAuthCommand({
        ClientId: cognito.clientId,
        AuthFlow: "REFRESH_TOKEN_AUTH",
        AuthParameters: { REFRESH_TOKEN: first.refreshToken },
      }),
    );
    for (const refreshed of [viaSdk, viaInitiate]) {
      const access = refreshed.AuthenticationResult?.AccessToken;
      expect(jwtClaims(access ?? "").jti).not.toBe(jwtClaims(first.accessToken).jti);
      expect(origin(access)).toBe(origin(first.accessToken));
      expect(origin(refreshed.AuthenticationResult?.IdToken)).toBe(origin(first.accessToken));
      await expect(verifier(cognito, "access").verify(access!)).resolves.toMatchObject({
        origin_jti: origin(first.accessToken),
      });
    }
  });

  it("rejects forged tokens, tokens for another client, and cognito-local's own published key", async () => {
    const { accessToken } = await signUpAndSignIn(cognito.endpoint, cognito.clientId, USER);
    const claims = jwtClaims(accessToken);
    const kid = cognito.jwks.keys[0]!.kid;
    const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    await expect(verifier(cognito, "access").verify(forge(claims, kid, attacker))).rejects.toThrow(
      /signature/i,
    );
    await expect(
      verifier(cognito, "access").verify(forge({ ...claims, client_id: "someone-else" }, kid, attacker)),
    ).rejects.toThrow();
    await expect(
      verifier(cognito, "access", "abcdefghijklmnopqrstuvwxyz").verify(accessToken),
    ).rejects.toThrow(/client/i);
    // cognito-local ships its private key in the npm package; tokens signed with it must not pass.
    const shipped = createRequire(createRequire(import.meta.url).resolve("cognito-local"))(
      "./keys/cognitoLocal.private.json",
    ) as { pem: string };
    const withShipped = forge(claims, "CognitoLocal", createPrivateKey(shipped.pem));
    expect(() => verifier(cognito, "access").verifySync(withShipped)).toThrow();
    expect(() =>
      verifier(cognito, "access").verifySync(forge(claims, kid, createPrivateKey(shipped.pem))),
    ).toThrow(/signature/i);
  });

  it("issues tokens that expire: a token made an hour and a half ago fails verification", async () => {
    await cognito.stop();
    cognito = await start({ clock: () => new Date(Date.now() - 90 * 60 * 1000) });
    const { accessToken, idToken } = await signUpAndSignIn(cognito.endpoint, cognito.clientId, USER);
    await expect(verifier(cognito, "access").verify(accessToken)).rejects.toThrow(/expired/i);
    await expect(verifier(cognito, "id").verify(idToken)).rejects.toThrow(/expired/i);
  });

  it("keeps the pool, the client, the signing key and the users across a restart", async () => {
    await signUpAndSignIn(cognito.endpoint, cognito.clientId, USER);
    const before = { userPoolId: cognito.userPoolId, clientId: cognito.clientId, jwks: cognito.jwks };
    await cognito.stop();
    cognito = await start();
    expect({ userPoolId: cognito.userPoolId, clientId: cognito.clientId, jwks: cognito.jwks }).toEqual(
      before,
    );
    const { accessToken } = await signIn(cognito.endpoint, cognito.clientId, USER);
    await expect(verifier(cognito, "access").verify(accessToken)).resolves.toBeTruthy();
    const signingKey = await readFile(join(stateDir, "cognito", "signing-key.pem"), "utf8");
    expect(signingKey).toContain("PRIVATE KEY");
  });

  it("answers CORS for allowed origins only and serves the JWKS", async () => {
    await cognito.stop();
    cognito = await start({ allowedOrigins: ["http://localhost:8443"] });
    const preflight = await fetch(cognito.endpoint, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:8443", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:8443");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("x-amz-target");

    const call = await fetch(cognito.endpoint, {
      method: "POST",
      headers: {
        origin: "http://localhost:8443",
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
      },
      body: JSON.stringify({
        ClientId: cognito.clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: "nobody@example.test", PASSWORD: "x" },
      }),
    });
    expect(call.status).toBe(400);
    expect(call.headers.get("access-control-allow-origin")).toBe("http://localhost:8443");

    const foreign = await fetch(cognito.endpoint, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();

    const jwks = await fetch(`${cognito.endpoint}/${cognito.userPoolId}/.well-known/jwks.json`);
    expect(await jwks.json()).toEqual(cognito.jwks);
  });
});
