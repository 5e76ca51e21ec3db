import { createPublicKey } from "node:crypto";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  RawRsaKeyringNode,
} from "@aws-crypto/client-node";
import { proofOfPossession, sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  accessTokenHash,
  createApiClient,
  createSessionKeys,
  exportSessionKeys,
  importSessionKeys,
  openAnswer,
  rawAnswer,
  SealedAnswerError,
  type SessionKeys,
} from "./index.ts";

const { encrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const token = "aaaa.bbbb.cccc";

/** Seals as the function does: stock encrypt client, raw RSA keyring named after the `sek` thumbprint. */
async function seal(
  sek: JWK,
  plaintext: string | Uint8Array,
  context: Record<string, string>,
  suiteId?: number,
) {
  const keyring = new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: await calculateJwkThumbprint(sek, "sha256"),
    rsaKey: { publicKey: createPublicKey({ key: sek as never, format: "jwk" }) as never },
    oaepHash: "sha256",
  });
  const { result } = await encrypt(keyring, plaintext, {
    encryptionContext: context,
    suiteId: suiteId ?? AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  });
  return result;
}

const answerContext = (jti: string) => ({
  [sealedAnswer.contextVersionKey]: sealedAnswer.contextVersion,
  [sealedAnswer.contextProofKey]: jti,
});

/** A fake function: verifies the proof, seals `payload` to its `sek` (context from `context(jti)`). */
function server(options: { context?: (jti: string) => Record<string, string>; sealTo?: SessionKeys } = {}) {
  const seen: { claims: Record<string, unknown>; url: string }[] = [];
  const fetch = (async (input: URL, init: RequestInit) => {
    const headers = new Headers(init.headers);
    const { payload } = await jwtVerify(headers.get(proofOfPossession.header) ?? "", EmbeddedJWK, {
      typ: proofOfPossession.type,
      algorithms: [proofOfPossession.algorithm],
    });
    seen.push({ claims: payload, url: String(input) });
    const jti = String(payload.jti);
    const sek = options.sealTo ? options.sealTo.sealJwk : (payload.sek as JWK);
    const message = await seal(
      sek,
      JSON.stringify({ hello: "Canary Fullname 42" }),
      (options.context ?? answerContext)(jti),
    );
    return new Response(Buffer.from(message).toString("base64"), {
      status: 200,
      headers: {
        "content-type": sealedAnswer.contentType,
        [sealedAnswer.plaintextTypeHeader]: "application/json",
        "x-veil-request-id": "req-1",
      },
    });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen };
}

// RSA-3072 key generation takes seconds on a busy machine.
describe("the Node API client", { timeout: 60_000 }, () => {
  it("sends a DPoP proof per contract and opens the stock client's sealed answer", async () => {
    const s = server();
    const api = createApiClient({ baseUrl: "http://localhost:4510", fetch: s.fetch });
    const res = await api.fetch("/api/records/abc?view=metadata#x", { token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-veil-request-id")).toBe("req-1");
    expect(await res.json()).toEqual({ hello: "Canary Fullname 42" });
    const wire = rawAnswer(res);
    expect(wire?.headers.get("content-type")).toBe(sealedAnswer.contentType);
    expect(Buffer.from(wire?.body ?? []).toString()).not.toContain("Canary");

    const claims = s.seen[0]?.claims ?? {};
    const keys = await api.keys();
    expect(claims.htm).toBe("GET");
    expect(claims.htu).toBe("http://localhost:4510/api/records/abc");
    expect(claims.ath).toBe(await accessTokenHash(token));
    expect(String(claims.jti).length).toBeGreaterThanOrEqual(22);
    expect(Math.abs(Number(claims.iat) - Date.now() / 1000)).toBeLessThan(5);
    expect(claims.sek).toEqual({ ...keys.sealJwk });
    expect(keys.sealJwk).toMatchObject({ kty: "RSA", alg: "RSA-OAEP-256", use: "enc", e: "AQAB" });
    expect(Buffer.from(String(keys.sealJwk.n), "base64url").length * 8).toBe(3072);
    expect(wire?.proofJti).toBe(claims.jti);
  });

  it("makes a fresh jti for every request and keeps the proof key (one session)", async () => {
    const s = server();
    const api = createApiClient({ fetch: s.fetch });
    await api.fetch("http://h/api/a", { token });
    await api.fetch("http://h/api/a", { token, method: "DELETE" });
    const [a, b] = s.seen;
    expect(a?.claims.jti).not.toBe(b?.claims.jti);
    expect(b?.claims.htm).toBe("DELETE");
  });

  it("keeps the private keys non-extractable unless asked", async () => {
    const keys = await createSessionKeys();
    expect(keys.proof.privateKey.extractable).toBe(false);
    expect(keys.seal.privateKey.extractable).toBe(false);
    await expect(exportSessionKeys(keys)).rejects.toThrow();
    const moved = await importSessionKeys(
      await exportSessionKeys(await createSessionKeys({ extractable: true })),
    );
    expect(moved.seal.privateKey.extractable).toBe(false);
  });

  it("refuses an answer whose context names another request's proof", async () => {
    const api = createApiClient({
      fetch: server({ context: () => answerContext("someone-elses-jti") }).fetch,
    });
    await expect(api.fetch("http://h/api/records", { token })).rejects.toMatchObject({
      reason: "wrongContext",
    });
  });

  it("refuses an answer with extra or missing context entries", async () => {
    for (const context of [
      (jti: string) => ({ ...answerContext(jti), extra: "1" }),
      (jti: string) => ({ [sealedAnswer.contextProofKey]: jti }),
    ]) {
      const api = createApiClient({ fetch: server({ context }).fetch });
      await expect(api.fetch("http://h/api/records", { token })).rejects.toBeInstanceOf(SealedAnswerError);
    }
  });

  it("refuses an answer sealed to another key", async () => {
    const other = await createSessionKeys();
    const api = createApiClient({ fetch: server({ sealTo: other }).fetch });
    await expect(api.fetch("http://h/api/records", { token })).rejects.toMatchObject({
      reason: "undecryptable",
    });
  });

  it("refuses a signed (non-Veil) suite and an unsealed 2xx API answer; passes errors through", async () => {
    const keys = await createSessionKeys();
    const signed = await seal(
      keys.sealJwk,
      "{}",
      answerContext("j"),
      AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
    );
    await expect(
      openAnswer(keys, { contentType: sealedAnswer.streamContentType, body: signed }, "j"),
    ).rejects.toMatchObject({ reason: "wrongSuite" });

    const plain = (status: number) =>
      (async () => Response.json({ fullName: "x" }, { status })) as unknown as typeof fetch;
    await expect(
      createApiClient({ fetch: plain(200) }).fetch("http://h/api/records", { token }),
    ).rejects.toMatchObject({
      reason: "unsealed",
    });
    const err = await createApiClient({ fetch: plain(401) }).fetch("http://h/api/records", { token });
    expect(err.status).toBe(401);
    const site = await createApiClient({ fetch: plain(200) }).fetch("http://h/config.json");
    expect(site.status).toBe(200);
  });

  it("opens a streamed (binary, framed) image answer", async () => {
    const keys = await createSessionKeys();
    const image = new Uint8Array(200_000).map((_, i) => i % 251);
    const message = await seal(keys.sealJwk, image, answerContext("jti-img"));
    const opened = await openAnswer(
      keys,
      { contentType: sealedAnswer.streamContentType, body: message },
      "jti-img",
    );
    expect(Buffer.from(opened).equals(Buffer.from(image))).toBe(true);
  });

  it("sends no proof when told, a given proof again, or one with changed claims", async () => {
    const headersSeen: Headers[] = [];
    const fetch = (async (_: URL, init: RequestInit) => {
      headersSeen.push(new Headers(init.headers));
      return new Response(null, { status: 401 });
    }) as unknown as typeof globalThis.fetch;
    const api = createApiClient({ fetch });
    await api.fetch("http://h/api/x", { token, proof: false });
    const proof = await api.proof("GET", "http://h/api/x", token);
    await api.fetch("http://h/api/x", { token, proof });
    await api.fetch("http://h/api/x", { token, proof: { claims: { iat: 1 } } });
    expect(headersSeen[0]?.has("dpop")).toBe(false);
    expect(headersSeen[1]?.get("dpop")).toBe(proof.jwt);
    const stale = headersSeen[2]?.get("dpop") ?? "";
    expect(JSON.parse(Buffer.from(stale.split(".")[1] ?? "", "base64url").toString()).iat).toBe(1);
  });
});
