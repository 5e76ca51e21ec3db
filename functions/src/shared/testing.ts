/**
 * TEST AND BENCH ONLY: a browser's proof key that signs DPoP proofs with `jose`, and the JWE the
 * sealing format was compared with, for code outside this package (the benchmarks) that has no `jose`
 * of its own. No handler imports it.
 */
import { createHash } from "node:crypto";
import { CompactEncrypt, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";

/** A proof key: its RFC 7638 thumbprint, and proofs signed with it. */
export interface TestProver {
  readonly jkt: string;
  prove(claims: { htm: string; htu: string; jti: string; token: string; sek: object }): Promise<string>;
}

/** Makes a fresh ES256 proof key. */
export async function createTestProver(): Promise<TestProver> {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  return {
    jkt: await calculateJwkThumbprint(jwk),
    prove: ({ htm, htu, jti, token, sek }) =>
      new SignJWT({ htm, htu, jti, ath: createHash("sha256").update(token).digest("base64url"), sek })
        .setProtectedHeader({ typ: "dpop+jwt", alg: "ES256", jwk })
        .setIssuedAt()
        .sign(privateKey),
  };
}

/** A compact JWE (RSA-OAEP-256, A256GCM) of `plaintext` to `sealKey`: the alternative format, to compare. */
export async function compactJwe(plaintext: Uint8Array, sealKey: object): Promise<string> {
  const key = await importJWK(sealKey as never, "RSA-OAEP-256");
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM" })
    .encrypt(key);
}
