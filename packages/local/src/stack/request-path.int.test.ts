/**
 * The operator-blind request path end to end on a real PostgreSQL: browser-like calls through the
 * local CloudFront, the edge signer, the gateway, the records function, KMS and the database.
 */
import { generateKeyPairSync, randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DecryptCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { headers as headerNames, type sensitiveFields } from "@veil/core";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionClients } from "../client/index.ts";
import { signIn, signUpAndSignIn } from "../cognito/index.ts";
import { sendDirect } from "../proof/harness.ts";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import { ephemeralPorts } from "./config.ts";
import type { LocalPrincipal } from "./identities.ts";
import { type LocalStack, startLocalStack } from "./start.ts";

const tag = randomBytes(4).toString("hex");
/** One canary per sensitive field, each valid for its field and unique to this run. */
const canaries: Record<(typeof sensitiveFields)[number], string> = {
  fullName: `Canary Fullname ${tag}`,
  dateOfBirth: `19${randomInt(10, 99)}-0${randomInt(1, 9)}-1${randomInt(0, 9)}`,
  insuranceNumber: `CNRY${randomInt(1e9, 9e9)}`,
  email: `canary.${tag}@example.org`,
  phone: `+41 79 ${randomInt(1e6, 9e6)}`,
  diagnosis: `Canary diagnosis ${tag}`,
  notes: `Canary notes ${tag} with + & % = characters`,
};
const updated = { ...canaries, diagnosis: `Canary updated diagnosis ${tag}` };

let pgServer: TestPostgres;
let stack: LocalStack;
let stateDir: string;
let alice: string;
let bob: string;
const alicePassword = `Pw-${randomBytes(9).toString("base64url")}-1a`;
let recordId = "";

const form = (values: Record<string, string>) =>
  new URLSearchParams({ category: "neurology", ...values }).toString();

/** As the browser calls: a proof of the session's key with each request; sealed answers come back opened. */
async function api(path: string, init: RequestInit & { token: string }) {
  return sessionClients.forToken(init.token).fetch(`${stack.info.edgeUrl}${path}`, init);
}

const start = () =>
  startLocalStack({
    stateDir,
    ports: ephemeralPorts,
    databaseUrl: pgServer.connectionString,
    webRoot: stateDir,
  });

beforeAll(async () => {
  pgServer = await startTestPostgres();
  stateDir = mkdtempSync(join(tmpdir(), "veil-stack-"));
  stack = await start();
  const signUp = (who: string, password = `Pw-${randomBytes(9).toString("base64url")}-1a`) =>
    signUpAndSignIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
      email: `${who}-${tag}@users.example.net`,
      password,
    });
  alice = (await signUp("alice", alicePassword)).accessToken;
  bob = (await signUp("bob")).accessToken;
});

afterAll(async () => {
  await stack?.stop();
  await pgServer?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the request path through the local CloudFront", () => {
  it("creates a record with a canary in every sensitive field and reads it back equal", async () => {
    const res = await api("/api/records", {
      method: "POST",
      token: alice,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form(canaries),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; version: number };
    recordId = created.id;
    expect(JSON.stringify(created)).not.toContain(tag);

    const read = await api(`/api/records/${recordId}`, { token: alice });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ ...canaries, category: "neurology", id: recordId });
  });

  it("updates with If-Match and keeps the audit trail", async () => {
    const res = await api(`/api/records/${recordId}`, {
      method: "POST",
      token: alice,
      headers: { "content-type": "application/x-www-form-urlencoded", "if-match": '"1"' },
      body: form(updated),
    });
    expect(res.status).toBe(200);
    const stale = await api(`/api/records/${recordId}`, {
      method: "POST",
      token: alice,
      headers: { "content-type": "application/x-www-form-urlencoded", "if-match": '"1"' },
      body: form(canaries),
    });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ error: "PreconditionFailed" });
    expect(await (await api(`/api/records/${recordId}`, { token: alice })).json()).toMatchObject(updated);
    const audit = (await (await api(`/api/records/${recordId}/audit`, { token: alice })).json()) as {
      items: { action: string }[];
    };
    expect(audit.items.map((i) => i.action)).toEqual(["create", "read", "update", "read"]);
  });

  it("an Idempotency-Key makes a retried create return the first record", async () => {
    const send = () =>
      api("/api/records", {
        method: "POST",
        token: alice,
        headers: { "content-type": "application/x-www-form-urlencoded", "idempotency-key": `retry-${tag}` },
        body: form({ fullName: "Retry Person", dateOfBirth: "1990-01-01" }),
      });
    const first = (await (await send()).json()) as { id: string };
    const second = await send();
    expect(second.status).toBe(201);
    expect(((await second.json()) as { id: string }).id).toBe(first.id);
  });

  it("another user can neither read, list, change, delete nor audit it", async () => {
    expect((await api(`/api/records/${recordId}`, { token: bob })).status).toBe(404);
    const list = (await (await api("/api/records", { token: bob })).json()) as { items: unknown[] };
    expect(list.items).toEqual([]);
    const change = await api(`/api/records/${recordId}`, {
      method: "POST",
      token: bob,
      headers: { "content-type": "application/x-www-form-urlencoded", "if-match": '"2"' },
      body: form(canaries),
    });
    expect(change.status).toBe(404);
    expect((await api(`/api/records/${recordId}`, { method: "DELETE", token: bob })).status).toBe(404);
    expect((await api(`/api/records/${recordId}/audit`, { token: bob })).status).toBe(404);
  });

  it("refuses JSON bodies, which CloudFront's field-level encryption would not cover", async () => {
    const res = await api("/api/records", {
      method: "POST",
      token: alice,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ category: "general", ...canaries }),
    });
    expect(res.status).toBe(415);
    expect((await res.json()) as object).toHaveProperty("requestId");
  });

  it("answers without a token or with a forged one with 401 and a request id", async () => {
    const none = await fetch(`${stack.info.edgeUrl}/api/records`);
    expect(none.status).toBe(401);
    const forged = await api("/api/records", { token: `${alice.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { requestId: string }).requestId).toMatch(/./);
  });
});

describe("the gateway behind CloudFront cannot be used directly", () => {
  const body = "category=general&fullName=Direct+Caller&dateOfBirth=1970-01-01";
  const post = {
    method: "POST",
    path: "/api/records",
    body,
    contentType: "application/x-www-form-urlencoded",
  };

  it("without the API key: 403", async () => {
    const res = await sendDirect(stack, { ...post, token: alice, apiKey: null });
    expect(res.status).toBe(403);
  });

  it("with the key but unsigned: 403 Missing Authentication Token", async () => {
    const res = await fetch(`${stack.info.gatewayUrl}/api/records`, {
      headers: { [headerNames.apiKey]: stack.info.gatewayApiKey },
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Missing Authentication Token");
  });

  it("signed with a wrong secret: 403", async () => {
    const wrong = { ...stack.identities.edgeRole, secretAccessKey: "x".repeat(40) };
    expect((await sendDirect(stack, { ...post, token: alice, signer: wrong })).status).toBe(403);
  });

  it("body changed after signing: 403", async () => {
    const res = await sendDirect(stack, {
      ...post,
      token: alice,
      tamper: (b) => Buffer.from(b.toString().replace("Direct", "Evil")),
    });
    expect(res.status).toBe(403);
  });

  it("signed 6 minutes ago: 403", async () => {
    const res = await sendDirect(stack, { ...post, token: alice, now: new Date(Date.now() - 6 * 60_000) });
    expect(res.status).toBe(403);
  });

  it("signed by a principal other than the edge role (a developer): 403", async () => {
    expect(
      (await sendDirect(stack, { ...post, token: alice, signer: stack.identities.developer })).status,
    ).toBe(403);
  });

  it("signed correctly but with sensitive fields in clear (no FLE): 400, nothing written", async () => {
    const before = (await (await api("/api/records", { token: alice })).json()) as { items: unknown[] };
    const res = await sendDirect(stack, { ...post, token: alice });
    expect(res.status).toBe(400);
    const after = (await (await api("/api/records", { token: alice })).json()) as { items: unknown[] };
    expect(after.items.length).toBe(before.items.length);
  });
});

describe("the KMS key", () => {
  const client = (p: LocalPrincipal) =>
    new KMSClient({
      endpoint: stack.info.kmsEndpoint,
      region: stack.info.region,
      credentials: { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey },
    });
  const keyId = () => stack.identities.recordsKeyArn ?? "";

  it("only the function role may use it; a developer and the key admin get AccessDeniedException", async () => {
    const context = { app: "veil", stage: "local", purpose: "probe" };
    const { CiphertextBlob } = await client(stack.identities.functionRole).send(
      new EncryptCommand({ KeyId: keyId(), Plaintext: Buffer.from("probe"), EncryptionContext: context }),
    );
    for (const who of [stack.identities.developer, stack.identities.adminRole]) {
      await expect(
        client(who).send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context })),
      ).rejects.toMatchObject({ name: "AccessDeniedException" });
      await expect(
        client(who).send(new GenerateDataKeyCommand({ KeyId: keyId(), KeySpec: "AES_256" })),
      ).rejects.toMatchObject({
        name: "AccessDeniedException",
      });
    }
  });
});

describe("updates and keyed creates under contention, through the local CloudFront", () => {
  const formType = { "content-type": "application/x-www-form-urlencoded" };
  const createOne = async (name: string) => {
    const res = await api("/api/records", {
      method: "POST",
      token: alice,
      headers: formType,
      body: form(fieldsOf(name)),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const fieldsOf = (name: string) => ({
    fullName: name,
    dateOfBirth: "1985-03-03",
    diagnosis: `Diagnosis of ${name}`,
  });
  const update = (method: string, id: string, headers: Record<string, string>, name = "Changed Person") =>
    api(`/api/records/${id}`, {
      method,
      token: alice,
      headers: { ...formType, ...headers },
      body: form(fieldsOf(name)),
    });

  it("PUT and POST answer alike at the API for other spellings of the id (404), no If-Match (428) and a stale one (412); CloudFront refuses PUT bodies (405)", async () => {
    const id = await createOne("Contract Person");
    const cases: Array<[string, string, Record<string, string>, number]> = [
      ["upper case", id.toUpperCase(), { "if-match": '"1"' }, 404],
      ["braces", `{${id}}`, { "if-match": '"1"' }, 404],
      ["no If-Match", id, {}, 428],
      ["stale If-Match", id, { "if-match": '"5"' }, 412],
    ];
    // Straight to the gateway (signed, with the API key): the two update routes of the API itself.
    const direct = (method: string, path: string, headers: Record<string, string>) =>
      sendDirect(stack, {
        method,
        path: `/api/records/${encodeURIComponent(path)}`,
        body: form(fieldsOf("Changed Person")),
        contentType: formType["content-type"],
        headers,
        token: alice,
      });
    for (const [label, path, headers, status] of cases) {
      const put = await direct("PUT", path, headers);
      const post = await direct("POST", path, headers);
      expect([put.status, post.status], label).toEqual([status, status]);
      expect((await put.json()) as object, label).toEqual(
        expect.objectContaining({ requestId: expect.any(String) }),
      );
      await post.arrayBuffer();
      // Through CloudFront only POST bodies are field-level encrypted: a PUT body never gets past it.
      const edgePut = await update("PUT", encodeURIComponent(path), headers);
      expect(edgePut.status, label).toBe(405);
      await edgePut.arrayBuffer();
    }
    const read = await api(`/api/records/${id}`, { token: alice });
    expect(await read.json()).toMatchObject({ ...fieldsOf("Contract Person"), id, version: 1 });
  });

  it("four racing updates on one version: exactly one wins, the others get 412, none a 5xx", async () => {
    const id = await createOne("Race Start");
    const names = ["Racer One", "Racer Two", "Racer Three", "Racer Four"];
    const answers = await Promise.all(names.map((n) => update("POST", id, { "if-match": '"1"' }, n)));
    const statuses = answers.map((a) => a.status);
    expect([...statuses].sort()).toEqual([200, 412, 412, 412]);
    await Promise.all(answers.map((a) => a.arrayBuffer()));
    const winner = names[statuses.indexOf(200)] ?? "";
    const read = await api(`/api/records/${id}`, { token: alice });
    expect(read.headers.get("etag")).toBe('"2"');
    expect(await read.json()).toMatchObject({ ...fieldsOf(winner), version: 2 });
  });

  it("keyed retries, concurrent and later, never get a 5xx; every acknowledged create reads back equal", async () => {
    const keys = Array.from({ length: 3 }, (_, i) => `contention-${tag}-${i}`);
    const send = (key: string) =>
      api("/api/records", {
        method: "POST",
        token: alice,
        headers: { ...formType, "idempotency-key": key },
        body: form(fieldsOf(`Keyed ${key}`)),
      });
    const answers = await Promise.all(keys.flatMap((k) => [send(k), send(k), send(k), send(k)]));
    for (const k of keys) answers.push(await send(k));
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as Array<{ id: string }>;
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    for (const [i, k] of keys.entries()) {
      const ids = new Set([...bodies.slice(i * 4, i * 4 + 4), bodies[keys.length * 4 + i]].map((b) => b?.id));
      expect(ids.size, k).toBe(1);
      const [id] = [...ids];
      const read = await api(`/api/records/${id}`, { token: alice });
      expect(await read.json()).toMatchObject({ ...fieldsOf(`Keyed ${k}`), id, version: 1 });
    }
  });

  it("a keyed retry still replays the first record after the FLE key pair rotates", async () => {
    const send = () =>
      api("/api/records", {
        method: "POST",
        token: alice,
        headers: { ...formType, "idempotency-key": `rotation-${tag}` },
        body: form(fieldsOf("Rotation Person")),
      });
    const first = await send();
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: string };

    // Rotate as a new key generation does: a new pair, the secret's new AWSCURRENT, CloudFront's new key.
    await stack.stop();
    const identityFile = join(stateDir, "identities.json");
    const ids = JSON.parse(readFileSync(identityFile, "utf8"));
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    ids.fle = {
      ...ids.fle,
      keyName: `${ids.fle.keyName}-rotated`,
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    };
    writeFileSync(identityFile, JSON.stringify(ids));
    stack = await start();
    expect(stack.identities.fle.keyName).toBe(ids.fle.keyName);
    alice = (
      await signIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
        email: `alice-${tag}@users.example.net`,
        password: alicePassword,
      })
    ).accessToken;

    const retry = await send();
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(((await retry.json()) as { id: string }).id).toBe(id);
    const read = await api(`/api/records/${id}`, { token: alice });
    expect(await read.json()).toMatchObject({ ...fieldsOf("Rotation Person"), id });
  });
});

describe("nothing in clear at rest or in logs", () => {
  it("finds no canary in any table, column, state file or log line", async () => {
    await stack.stop(); // flushes every log file
    const all = { ...canaries, updatedDiagnosis: updated.diagnosis };
    const hits = [
      ...(await scanDatabase(pgServer.connectionString, all)),
      ...(await scanFiles([stateDir], all)),
    ];
    expect(hits).toEqual([]);
  });
});
