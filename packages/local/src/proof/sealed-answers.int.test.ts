/**
 * Proof-of-possession and sealed answers through the whole local stack: every attack on a session's
 * DPoP proofs gets a generic 401 with a request id at the local CloudFront, and a canary record, its
 * list entry and its image cross both hops (viewer ↔ CloudFront answers, CloudFront ↔ gateway both
 * ways) only as ciphertext.
 */
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canaryNeedles, containsAny } from "../scan/needles.ts";
import {
  canaryFields,
  formType,
  makeCanaries,
  type ProofStack,
  type ProofUser,
  recordForm,
  startProofStack,
} from "./harness.ts";
import { genericUnauthorized, judgeRefusal, proofAttacks, readSealedCanaries } from "./pop-checks.ts";

let pgServer: TestPostgres;
let p: ProofStack;
let user: ProofUser;
let generic: Record<string, unknown>;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  p = await startProofStack({ databaseUrl: pgServer.connectionString });
  user = await p.newUser("pop");
  const first = await p.api("/api/records", { token: user.token });
  await first.arrayBuffer();
  expect(first.status).toBe(200);
  generic = await genericUnauthorized(p);
});

afterAll(async () => {
  await p?.stop();
  await pgServer?.stop();
});

describe("a valid bearer token without a valid proof of its session's key gets 401 through the edge", () => {
  const refused = async (name: keyof typeof proofAttacks) => {
    const attack = proofAttacks[name];
    if (!attack) throw new Error(`no attack ${name}`);
    expect(await judgeRefusal(name, await attack(p, user), generic)).toEqual([]);
  };

  it("a valid bearer token but no proof: 401, generic body, request id", () => refused("no proof"));
  it("a replayed proof: 401, generic body, request id", () => refused("a replayed proof"));
  it("a proof from another key for the same session, after the first key bound: 401", () =>
    refused("a proof from another key for the same session"));
  it("a forged proof (bad signature): 401", () =>
    refused("a forged proof (signature of another key under this key's header)"));
  it("a stale iat, or one in the future: 401", async () => {
    await refused("a stale iat");
    await refused("an iat in the future");
  });
  it("a wrong htu (host or path) or htm: 401", async () => {
    await refused("a wrong htu (another host)");
    await refused("a wrong htu (another path)");
    await refused("a wrong htm");
  });
  it("a wrong ath (another token's hash): 401", () => refused("a wrong ath (another token's hash)"));
  it("a proof without jti: 401", () => refused("a proof without jti"));
  it("every attack of the proof control's check is covered above", () => {
    expect(Object.keys(proofAttacks)).toHaveLength(11);
  });

  it("the session's own key keeps working after every refused attempt", async () => {
    const res = await p.api("/api/records", { token: user.token });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });

  it("a new session's first requests sent at once all bind the same key: none gets 401", async () => {
    const fresh = await p.newUser("pop-concurrent");
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => p.api("/api/records", { token: fresh.token })),
    );
    for (const res of answers) await res.arrayBuffer();
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
  });

  it("a new sign-in is a new session that binds its own key", async () => {
    const other = await p.newUser("pop-second");
    const res = await p.api("/api/records", { token: other.token });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  });
});

describe("answers cross CloudFront and the gateway only sealed", () => {
  it("a canary record created, read, listed and its image downloaded: no form of any canary at either hop", async () => {
    expect(await readSealedCanaries(p)).toEqual([]);
  });

  it("the capture sees clear text where there is some: the viewer's form reaches CloudFront in clear", async () => {
    const c = makeCanaries();
    const since = p.viewerWire.mark();
    const res = await p.api("/api/records", {
      method: "POST",
      token: user.token,
      headers: { "content-type": formType },
      body: recordForm(canaryFields(c)),
    });
    await res.arrayBuffer();
    expect(res.status).toBe(201);
    const requests = p.viewerWire.recorded("request", since);
    expect(containsAny(requests, canaryNeedles(c.fullName))).toBe(true);
    const answers = p.viewerWire.recorded("answer", since);
    expect(containsAny(answers, canaryNeedles(c.fullName))).toBe(false);
  });

  it("no canary made in this file crossed either hop in clear", () => {
    expect(p.leaks()).toEqual([]);
  });
});
