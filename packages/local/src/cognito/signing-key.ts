import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One RSA public key in JWK form. */
export type Jwk = {
  readonly kty: "RSA";
  readonly kid: string;
  readonly alg: "RS256";
  readonly use: "sig";
  readonly n: string;
  readonly e: string;
};

/**
 * A JSON Web Key Set with the one key the local Cognito signs with. Type aliases (not interfaces), so it
 * passes straight to aws-jwt-verify's `cacheJwks`.
 */
export type Jwks = { readonly keys: Jwk[] };

/** The token signing key of one local Cognito state folder. */
export interface SigningKey {
  readonly kid: string;
  readonly jwks: Jwks;
  /** Signs `header.payload` (RS256) and returns the compact JWT. */
  signJwt(payload: Readonly<Record<string, unknown>>): string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * Loads the RSA-2048 key at `path`, or makes one and stores it there (mode 0600) on first start.
 *
 * cognito-local signs with a key pair shipped inside its npm package, so anyone could mint tokens it
 * accepts; the local stack re-signs every token with this per-state-folder key instead.
 */
export function loadOrCreateSigningKey(path: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  const jwk = createPublicKey(privateKey).export({ format: "jwk" }) as { n: string; e: string };
  const kid = createHash("sha256").update(jwk.n).digest("base64url").slice(0, 16);
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  return {
    kid,
    jwks: { keys: [{ kty: "RSA", kid, alg: "RS256", use: "sig", n: jwk.n, e: jwk.e }] },
    signJwt(payload) {
      const signingInput = `${header}.${b64url(JSON.stringify(payload))}`;
      return `${signingInput}.${b64url(sign("sha256", Buffer.from(signingInput), privateKey))}`;
    },
  };
}

/** The claims of a compact JWT, without any verification (for re-signing tokens we just made). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error("not a compact JWT");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

/**
 * The `origin_jti` of every token a sign-in's refresh token yields: derived from that refresh token's
 * `jti`, so it is new per sign-in and the same across refreshes (Cognito's behaviour with token
 * revocation on), in Cognito's UUID shape.
 */
export function originJtiOf(refreshToken: string): string {
  const hex = createHash("sha256")
    .update(`origin_jti:${String(jwtClaims(refreshToken).jti)}`)
    .digest("hex");
  const variant = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
