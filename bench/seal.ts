/**
 * Sealed answers and proofs: the function's cost of sealing a 4 KiB answer to the browser's key
 * (`sealAnswer`: one Encryption SDK message, RSA-OAEP-3072 key wrap) against raw AES-256-GCM of the same
 * bytes and against the alternative format (a compact JWE made by jose), and the CPU of verifying one DPoP proof (signature, claims, two thumbprints, the sealing key's
 * checks) without its database round trip. Public APIs only; times are the best of interleaved rounds.
 */
import { createCipheriv, generateKeyPairSync, type JsonWebKey, randomBytes } from "node:crypto";
import { createProofVerifier } from "../functions/src/shared/proof.ts";
import { compactJwe, createTestProver } from "../functions/src/shared/testing.ts";
import { sealAnswer } from "../packages/crypto/src/index.ts";
import type { Queryable } from "../packages/db/src/index.ts";
import { round, timeCases } from "./timing.ts";
import type { BenchModule, Metric } from "./types.ts";

const answer = randomBytes(4096);
const host = "app.veil.example";
const path = "/api/records/8cd2c6c5-0b0e-4c47-9a53-3f1f2b0b1c11";

function sealKey(): JsonWebKey {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 3072 });
  const { kty, n, e } = publicKey.export({ format: "jwk" });
  return { kty, n, e, alg: "RSA-OAEP-256", use: "enc" };
}

/** A binding store that always answers "fresh, bound to this key": the CPU of the checks alone. */
function acceptingStore(jkt: string): Queryable {
  return {
    query: async () => ({ rows: [{ fresh: true, revoked: false, owner_id: "user-1", jkt }] }),
  } as unknown as Queryable;
}

const bench: BenchModule = {
  name: "seal",
  description: "sealing a 4 KiB answer vs AES-256-GCM; verifying a DPoP proof",
  async run({ quick, log }) {
    const sek = sealKey();
    const key = randomBytes(32);
    let jti = 0;
    log("seal: sealing 4 KiB answers and AES-256-GCM of the same bytes");
    const sealing = await timeCases(
      {
        seal: { run: () => sealAnswer(answer, sek, `jti-${jti++}-0123456789abcdef`), batch: quick ? 10 : 40 },
        jwe: { run: () => compactJwe(answer, sek), batch: quick ? 10 : 40 },
        aesGcm: {
          run: () => {
            const cipher = createCipheriv("aes-256-gcm", key, randomBytes(12));
            cipher.update(answer);
            cipher.final();
            cipher.getAuthTag();
          },
          batch: quick ? 200 : 2000,
        },
      },
      quick ? 3 : 15,
    );
    const message = await sealAnswer(answer, sek, "jti-size-0123456789abcdef");

    log("seal: verifying DPoP proofs");
    const prover = await createTestProver();
    const token = "header.payload.signature";
    const verify = createProofVerifier({ db: acceptingStore(prover.jkt), purgeEvery: 0 });
    const proofs = await Promise.all(
      Array.from({ length: quick ? 400 : 4000 }, (_, i) =>
        prover.prove({
          htm: "GET",
          htu: `https://${host}${path}`,
          jti: `proof-${i}-0123456789abcdef`,
          token,
          sek,
        }),
      ),
    );
    const event = (proof: string) =>
      ({ httpMethod: "GET", path, headers: { dpop: proof, "x-veil-viewer-host": host } }) as never;
    let next = 0;
    const verifying = await timeCases(
      {
        verify: {
          run: () =>
            verify(event(proofs[next++ % proofs.length] ?? ""), { token, sub: "user-1", originJti: "o1" }),
          batch: quick ? 20 : 200,
        },
      },
      quick ? 3 : 15,
    );

    const metrics: Record<string, Metric> = {
      seal_4k_us: {
        value: round(sealing.seal.bestUs, 1),
        unit: "µs",
        note: "sealAnswer of 4 KiB (ESDK, RSA-OAEP-3072)",
      },
      jwe_4k_us: {
        value: round(sealing.jwe.bestUs, 1),
        unit: "µs",
        note: "compact JWE (jose, RSA-OAEP-256 + A256GCM) of the same 4 KiB, for comparison",
      },
      aes_gcm_4k_us: {
        value: round(sealing.aesGcm.bestUs, 2),
        unit: "µs",
        note: "AES-256-GCM of the same 4 KiB",
      },
      seal_vs_aes_gcm: {
        value: round(sealing.seal.bestUs / sealing.aesGcm.bestUs, 1),
        unit: "×",
        note: "sealing a 4 KiB answer ÷ raw AES-256-GCM of the same bytes",
      },
      seal_4k_overhead_bytes: {
        value: message.byteLength - answer.byteLength,
        unit: "B",
        note: "message bytes beyond the 4 KiB plaintext (before base64)",
      },
      proof_verify_us: {
        value: round(verifying.verify.bestUs, 1),
        unit: "µs",
        note: "one DPoP proof verified, CPU only (no database round trip)",
      },
    };
    return metrics;
  },
};

export default bench;
