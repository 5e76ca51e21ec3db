/**
 * The DPoP proof and the access token it goes with, verified against a real PostgreSQL (seen proof ids
 * and session bindings): a valid proof passes; every forged, stale, replayed, misdirected or
 * foreign-key proof, and a token without `origin_jti`, gets the same generic 401.
 */
import { createHash, generateKeyPairSync, type JsonWebKey, randomBytes } from "node:crypto";
import { headers, proofOfPossession } from "@veil/core";
import { account, createPool, migrate, proofs, withTransaction } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCallerVerifier } from "./auth.ts";
import type { Pool } from "./database.ts";
import { UnauthorizedError } from "./errors.ts";
import { createProofVerifier, type ProofToken, type VerifyProof } from "./proof.ts";

const host = "app.veil.example";
const path = "/api/records/8cd2c6c5-0b0e-4c47-9a53-3f1f2b0b1c11";
const b64 = (s: string) => createHash("sha256").update(s).digest("base64url");

interface ProofKey {
  privateKey: CryptoKey;
  jwk: JWK;
}
const proofKey = async (): Promise<ProofKey> => {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  return { privateKey, jwk: await exportJWK(publicKey) };
};
const sealKeyJwk = (): JsonWebKey => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const { kty, n, e } = publicKey.export({ format: "jwk" });
  return { kty, n, e, alg: "RSA-OAEP-256", use: "enc" };
};

let server: TestPostgres;
let pool: Pool;
let sek: JsonWebKey;
let verifyProof: VerifyProof;

beforeAll(async () => {
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  sek = sealKeyJwk();
  verifyProof = createProofVerifier({ db: pool, purgeEvery: 3 });
}, 120_000);
afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

interface ProofParts {
  key?: ProofKey;
  signWith?: CryptoKey;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  token?: string;
}

async function proof(key: ProofKey, parts: ProofParts = {}): Promise<string> {
  return new SignJWT({
    htm: "GET",
    htu: `https://${host}${path}`,
    jti: randomBytes(16).toString("base64url"),
    ath: b64(parts.token ?? "token-1"),
    sek,
    iat: Math.floor(Date.now() / 1000),
    ...parts.claims,
  })
    .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk: key.jwk, ...parts.header } as never)
    .sign(parts.signWith ?? key.privateKey);
}

function event(
  dpop: string | string[] | undefined,
  extra: Record<string, string> = {},
): APIGatewayProxyEvent {
  const list = dpop === undefined ? [] : Array.isArray(dpop) ? dpop : [dpop];
  return {
    httpMethod: "GET",
    path,
    headers: {
      ...(list[0] ? { DPoP: list[0] } : {}),
      [proofOfPossession.viewerHostHeader]: host,
      ...extra,
    },
    multiValueHeaders: list.length ? { DPoP: list } : {},
  } as unknown as APIGatewayProxyEvent;
}

const session = (over: Partial<ProofToken> = {}): ProofToken => ({
  token: "token-1",
  sub: "user-1",
  originJti: randomBytes(12).toString("hex"),
  ...over,
});

describe("proof verification", { timeout: 60_000 }, () => {
  it("accepts a fresh proof for this request and token, binds the session and hands back the sealing key", async () => {
    const key = await proofKey();
    const token = session();
    const jwt = await proof(key);
    const verified = await verifyProof(event(jwt), token);
    expect(verified.sealKey).toEqual(sek);
    expect(verified.proof.jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(verified.proof.jti).toBe(JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()).jti);
    // The same session goes on with new proofs of the same key (and purges on the way).
    for (let i = 0; i < 4; i++)
      await expect(verifyProof(event(await proof(key)), token)).resolves.toBeTruthy();
  });

  it("refuses a replayed proof, a proof of another key for a bound session, and a token without origin_jti", async () => {
    const key = await proofKey();
    const token = session();
    const jwt = await proof(key);
    await verifyProof(event(jwt), token);
    await expect(verifyProof(event(jwt), token)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verifyProof(event(jwt), session())).rejects.toBeInstanceOf(UnauthorizedError);
    const thief = await proofKey();
    await expect(verifyProof(event(await proof(thief)), token)).rejects.toBeInstanceOf(UnauthorizedError);
    // The thief's key works only for a session it started itself.
    await expect(verifyProof(event(await proof(thief)), session())).resolves.toBeTruthy();
    await expect(verifyProof(event(await proof(key)), session({ originJti: "" }))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    // Another user's token cannot take over a bound session id either.
    await expect(verifyProof(event(await proof(key)), { ...token, sub: "user-2" })).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it("refuses every proof of a session revoked by an account erasure, with any key, with the same 401", async () => {
    const key = await proofKey();
    const token = session({ sub: `user-${randomBytes(6).toString("hex")}` });
    await expect(verifyProof(event(await proof(key)), token)).resolves.toBeTruthy();
    await withTransaction(pool, (tx) => account.erase(tx, token.sub));
    // The same token, with the session's own key or a fresh one: refused, and nothing binds again.
    for (const k of [key, await proofKey()]) {
      const refused = await verifyProof(event(await proof(k)), token).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(UnauthorizedError);
      expect(refused).toMatchObject({ status: 401, message: new UnauthorizedError().message });
    }
    const { rows } = await pool.query("SELECT owner_id, jkt FROM proof_sessions WHERE origin_jti = $1", [
      token.originJti,
    ]);
    expect(rows).toEqual([{ owner_id: proofs.erasedOwner, jkt: null }]);
    // Another sign-in of the erased owner that never made a request: refused once the owner is revoked.
    const unbound = { ...token, originJti: randomBytes(12).toString("hex") };
    await proofs.revokeSubject(pool, token.sub);
    await expect(verifyProof(event(await proof(key)), unbound)).rejects.toBeInstanceOf(UnauthorizedError);
    // Other users go on.
    await expect(verifyProof(event(await proof(key)), session())).resolves.toBeTruthy();
  });

  it("refuses every forged, stale, misdirected or malformed proof with the same 401", async () => {
    const key = await proofKey();
    const other = await proofKey();
    const seconds = () => Math.floor(Date.now() / 1000);
    const { privateKey: rsa } = await generateKeyPair("RS256");
    const { kty, n, e } = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({
      format: "jwk",
    });
    const cases: Record<string, () => Promise<APIGatewayProxyEvent>> = {
      "no proof": async () => event(undefined),
      "not a JWT": async () => event("abc"),
      "two proofs": async () => event([await proof(key), await proof(key)]),
      "signed by another key than the embedded one": async () =>
        event(await proof(key, { signWith: other.privateKey })),
      "another typ": async () => event(await proof(key, { header: { typ: "JWT" } })),
      RS256: async () =>
        event(
          await new SignJWT({
            htm: "GET",
            htu: `https://${host}${path}`,
            jti: "a".repeat(22),
            ath: b64("token-1"),
            sek,
          })
            .setProtectedHeader({ typ: "dpop+jwt", alg: "RS256", jwk: { kty, n, e } as JWK })
            .setIssuedAt()
            .sign(rsa),
        ),
      "alg none": async () => {
        const [h, p] = (await proof(key)).split(".");
        const head = { ...JSON.parse(Buffer.from(h!, "base64url").toString()), alg: "none" };
        return event(`${Buffer.from(JSON.stringify(head)).toString("base64url")}.${p}.`);
      },
      "a private key in the header": async () => {
        const { privateKey } = await generateKeyPair("ES256", { extractable: true });
        return event(await proof({ privateKey, jwk: await exportJWK(privateKey) }));
      },
      "another method": async () => event(await proof(key, { claims: { htm: "POST" } })),
      "another host": async () => event(await proof(key, { claims: { htu: `https://evil.example${path}` } })),
      "another path": async () => event(await proof(key, { claims: { htu: `https://${host}/api/records` } })),
      "http on a public host": async () =>
        event(await proof(key, { claims: { htu: `http://${host}${path}` } })),
      "no viewer host": async () => {
        const ev = event(await proof(key));
        delete ev.headers[proofOfPossession.viewerHostHeader];
        return ev;
      },
      "too old": async () => event(await proof(key, { claims: { iat: seconds() - 62 } })),
      "from the future": async () => event(await proof(key, { claims: { iat: seconds() + 7 } })),
      "no iat": async () => event(await proof(key, { claims: { iat: undefined } })),
      "another token": async () => event(await proof(key, { token: "token-2" })),
      "no ath": async () => event(await proof(key, { claims: { ath: undefined } })),
      "a short jti": async () => event(await proof(key, { claims: { jti: "abc" } })),
      "no sealing key": async () => event(await proof(key, { claims: { sek: undefined } })),
      "a 2048-bit sealing key": async () =>
        event(await proof(key, { claims: { sek: { kty, n, e, alg: "RSA-OAEP-256" } } })),
    };
    for (const [name, make] of Object.entries(cases)) {
      const err = await verifyProof(await make(), session()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(UnauthorizedError);
      expect((err as UnauthorizedError).message, name).toBe(new UnauthorizedError().message);
    }
  });

  it("accepts a proof up to 60 s old and 5 s ahead, by the function's clock", async () => {
    const key = await proofKey();
    const at = 1_900_000_000;
    const clocked = createProofVerifier({ db: pool, now: () => at * 1000 + 999 });
    const check = async (iat: number) => clocked(event(await proof(key, { claims: { iat } })), session());
    await expect(check(at - 60)).resolves.toBeTruthy();
    await expect(check(at + 5)).resolves.toBeTruthy();
    await expect(check(at - 61)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(check(at + 6)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("takes http only on a loopback viewer host, and a written-out default port", async () => {
    const key = await proofKey();
    const local = (htu: string, viewer: string) =>
      proof(key, { claims: { htu } }).then((jwt) =>
        verifyProof(event(jwt, { [proofOfPossession.viewerHostHeader]: viewer }), session()),
      );
    await expect(local(`http://localhost:4510${path}`, "localhost:4510")).resolves.toBeTruthy();
    await expect(local(`http://127.0.0.1:4510${path}?view=metadata`, "127.0.0.1:4510")).resolves.toBeTruthy();
    await expect(local(`https://${host}:443${path}`, host)).resolves.toBeTruthy();
    await expect(local(`http://localhost:4511${path}`, "localhost:4510")).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await expect(
      local(`http://localhost.evil.example${path}`, "localhost.evil.example"),
    ).rejects.toBeInstanceOf(UnauthorizedError);
  });
});

describe("createCallerVerifier", { timeout: 60_000 }, () => {
  it("needs a valid access token with origin_jti, then its proof; the caller carries proof and key", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwks = JSON.stringify({
      keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" }],
    });
    const userPoolId = "eu-central-2_Test1234";
    const clientId = "client1";
    const accessToken = (claims: Record<string, unknown>) =>
      new SignJWT({ token_use: "access", client_id: clientId, username: "ada", ...claims })
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(`https://cognito-idp.eu-central-2.amazonaws.com/${userPoolId}`)
        .setSubject("sub-ada")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    const verifyCaller = createCallerVerifier({ userPoolId, clientId, jwks, verifyProof });
    const key = await proofKey();
    const call = async (token: string) =>
      verifyCaller(event(await proof(key, { token }), { [headers.identity]: `Bearer ${token}` }));

    const good = await accessToken({ origin_jti: randomBytes(8).toString("hex") });
    const caller = await call(good);
    expect(caller).toMatchObject({ sub: "sub-ada", username: "ada", sealKey: sek });
    expect(caller.proof.jti.length).toBeGreaterThanOrEqual(22);
    await expect(call(await accessToken({}))).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verifyCaller(event(await proof(key, { token: good })))).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });
});
