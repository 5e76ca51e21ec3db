/**
 * One security check per control, written once and run twice: against a normal stack (it must pass) and
 * against a stack with that control switched off (it must then fail — the teeth). A check returns the
 * list of what went wrong; empty means it passed. Checks observe from outside, as an attacker or an
 * auditor would: HTTP answers, database rows, log files, bytes on the wire, KMS answers.
 */
import { generateKeyPairSync, sign as rsaSign } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  PutKeyPolicyCommand,
} from "@aws-sdk/client-kms";
import pg from "pg";
import { jwtClaims } from "../cognito/signing-key.ts";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import { canaryNeedles, containsAny } from "../scan/needles.ts";
import type { LocalPrincipal } from "../stack/identities.ts";
import type { ControlName } from "./controls.ts";
import { canaryFields, formType, makeCanaries, type ProofStack, recordForm } from "./harness.ts";
import { readSealedCanaries, runProofAttacks } from "./pop-checks.ts";

/** A security check of one control. */
export interface SecurityCheck {
  /** Says what must hold, e.g. "a call without the API key gets 403". */
  readonly title: string;
  run(p: ProofStack): Promise<string[]>;
}

class Findings {
  readonly list: string[] = [];
  expect(ok: boolean, what: string): void {
    if (!ok) this.list.push(what);
  }
}

/** Creates a record for `token` through CloudFront; returns the response and its id (if created). */
export async function createRecord(p: ProofStack, token: string, fields: Record<string, string>, extra = {}) {
  const res = await p.api("/api/records", {
    method: "POST",
    token,
    headers: { "content-type": formType, ...extra },
    body: recordForm(fields),
  });
  const body = (await res.json().catch(() => ({}))) as { id?: string; requestId?: string };
  return { status: res.status, id: body.id, body, requestId: res.headers.get("x-veil-request-id") ?? "" };
}

const clearBody = "category=general&fullName=Direct+Caller&dateOfBirth=1970-01-01";
const post = { method: "POST", path: "/api/records", body: clearBody, contentType: formType };

function forgeToken(
  valid: string,
  change: (claims: Record<string, unknown>) => Record<string, unknown>,
  alg = "RS256",
) {
  const [header] = valid.split(".");
  const head = JSON.parse(Buffer.from(header ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
  const h = Buffer.from(JSON.stringify({ ...head, alg })).toString("base64url");
  const payload = Buffer.from(JSON.stringify(change(jwtClaims(valid)))).toString("base64url");
  if (alg === "none") return `${h}.${payload}.AA`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return `${h}.${payload}.${rsaSign("sha256", Buffer.from(`${h}.${payload}`), privateKey).toString("base64url")}`;
}

/** Forged, `alg: none` and expired tokens carrying a real user's claims. */
export function badTokens(valid: string): Record<string, string> {
  const now = Math.floor(Date.now() / 1000);
  return {
    forgedSignature: forgeToken(valid, (c) => c),
    algNone: forgeToken(valid, (c) => c, "none"),
    expiredForged: forgeToken(valid, (c) => ({ ...c, iat: now - 7200, exp: now - 3600 })),
    otherClient: forgeToken(valid, (c) => ({ ...c, client_id: "someotherclient" })),
    garbage: "not.a.jwt",
  };
}

function kmsAs(p: ProofStack, who: LocalPrincipal) {
  return new KMSClient({
    endpoint: p.stack.info.kmsEndpoint,
    region: p.stack.info.region,
    maxAttempts: 1,
    credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
  });
}

async function denied(call: Promise<unknown>): Promise<boolean> {
  try {
    await call;
    return false;
  } catch (err) {
    return (err as { name?: string }).name === "AccessDeniedException";
  }
}

/** Waits until a log file of the stack mentions `needle` (the function writes its log asynchronously). */
export async function waitForLog(p: ProofStack, needle: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const { readFile } = await import("node:fs/promises");
  while (Date.now() < deadline) {
    const text = await readFile(`${p.stack.info.logDir}/records.log`, "utf8").catch(() => "");
    if (text.includes(needle)) return;
    await sleep(50);
  }
}

async function withDb<T>(p: ProofStack, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: p.databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const securityChecks: Record<ControlName, SecurityCheck> = {
  fle: {
    title: "sensitive fields cross CloudFront → gateway only as FLE ciphertext",
    async run(p) {
      const f = new Findings();
      const c = makeCanaries();
      const since = p.wire.mark();
      const created = await createRecord(p, p.alice.token, canaryFields(c));
      f.expect(created.status === 201, `create answered ${created.status}, not 201`);
      const wire = p.wire.recorded(undefined, since);
      f.expect(wire.length > 0, "nothing was recorded on the wire");
      for (const [field, value] of Object.entries(canaryFields(c)))
        f.expect(!containsAny(wire, canaryNeedles(value)), `${field} crossed the wire in clear`);
      return f.list;
    },
  },
  securityHeaders: {
    title: "every response carries CSP, HSTS, nosniff, no-framing and no-referrer headers",
    async run(p) {
      const f = new Findings();
      for (const path of ["/api/records", "/config.json", "/"]) {
        const res = await p.api(path);
        await res.arrayBuffer();
        const h = (n: string) => res.headers.get(n) ?? "";
        f.expect(h("content-security-policy").includes("frame-ancestors 'none'"), `${path}: no CSP`);
        f.expect(h("strict-transport-security").includes("max-age="), `${path}: no HSTS`);
        f.expect(h("x-content-type-options") === "nosniff", `${path}: no nosniff`);
        f.expect(h("x-frame-options") === "DENY", `${path}: framing allowed`);
        f.expect(h("referrer-policy") === "no-referrer", `${path}: referrer sent`);
      }
      return f.list;
    },
  },
  apiKey: {
    title: "a signed call straight to the gateway without the API key gets 403",
    async run(p) {
      const f = new Findings();
      for (const apiKey of [null, "x".repeat(40)]) {
        const res = await p.direct({ ...post, token: p.alice.token, apiKey });
        f.expect(res.status === 403, `${apiKey === null ? "no" : "a wrong"} API key got ${res.status}`);
      }
      return f.list;
    },
  },
  sigv4: {
    title: "unsigned, wrongly signed or tampered calls to the gateway get 403",
    async run(p) {
      const f = new Findings();
      const unsigned = await p.direct({ ...post, token: p.alice.token, sign: false });
      f.expect(unsigned.status === 403, `unsigned got ${unsigned.status}`);
      const wrong = { ...p.stack.identities.edgeRole, secretAccessKey: "x".repeat(40) };
      const badSecret = await p.direct({ ...post, token: p.alice.token, signer: wrong });
      f.expect(badSecret.status === 403, `wrong secret got ${badSecret.status}`);
      const tampered = await p.direct({
        ...post,
        token: p.alice.token,
        tamper: (b) => Buffer.from(b.toString().replace("Direct", "Evilx")),
      });
      f.expect(tampered.status === 403, `body changed after signing got ${tampered.status}`);
      return f.list;
    },
  },
  signatureFreshness: {
    title: "a signature older or newer than 5 minutes (a replay, or a skewed clock) gets 403",
    async run(p) {
      const f = new Findings();
      for (const minutes of [-6, 6, -60 * 24]) {
        const now = new Date(Date.now() + minutes * 60_000);
        const res = await p.direct({ ...post, token: p.alice.token, now });
        f.expect(res.status === 403, `signed ${minutes} min off got ${res.status}`);
      }
      return f.list;
    },
  },
  principalAllowList: {
    title: "a call signed by anyone but the edge role (a developer) gets 403",
    async run(p) {
      const f = new Findings();
      for (const signer of [p.stack.identities.developer]) {
        const res = await p.direct({ ...post, token: p.alice.token, signer });
        f.expect(res.status === 403, `signed by ${signer.arn.split(":").pop()} got ${res.status}`);
      }
      return f.list;
    },
  },
  proof: {
    title:
      "a valid token with no proof, a replayed, forged, stale or misdirected proof, or another key for the session gets 401",
    run: runProofAttacks,
  },
  sealing: {
    title: "a record, its list entry and its image cross CloudFront and the gateway only sealed",
    run: readSealedCanaries,
  },
  fleRequired: {
    title: "sensitive fields sent in clear past CloudFront get 400 and nothing is written",
    async run(p) {
      const f = new Findings();
      const before = await withDb(p, (c) => c.query("SELECT count(*)::int AS n FROM records"));
      const res = await p.direct({ ...post, token: p.alice.token });
      f.expect(res.status === 400, `clear fields got ${res.status}`);
      const after = await withDb(p, (c) => c.query("SELECT count(*)::int AS n FROM records"));
      f.expect(after.rows[0].n === before.rows[0].n, "a record was written");
      return f.list;
    },
  },
  tokenVerification: {
    title: "missing, forged, alg:none, expired or foreign tokens get 401",
    async run(p) {
      const f = new Findings();
      const none = await p.api("/api/records");
      f.expect(none.status === 401, `no token got ${none.status}`);
      for (const [kind, token] of Object.entries(badTokens(p.alice.token))) {
        const res = await p.api("/api/records", { token });
        f.expect(res.status === 401, `${kind} token got ${res.status}`);
      }
      return f.list;
    },
  },
  ownerScoping: {
    title: "another user can neither read, list, change, delete nor audit a record (IDOR)",
    async run(p) {
      const f = new Findings();
      const c = makeCanaries();
      const { id } = await createRecord(p, p.alice.token, canaryFields(c));
      f.expect(id !== undefined, "alice could not create a record");
      const path = `/api/records/${id}`;
      const bob = p.bob.token;
      f.expect((await p.api(path, { token: bob })).status === 404, "bob read it");
      const list = (await (await p.api("/api/records", { token: bob })).json()) as {
        items?: { id: string }[];
      };
      f.expect(!(list.items ?? []).some((i) => i.id === id), "bob listed it");
      const change = await p.api(path, {
        method: "POST",
        token: bob,
        headers: { "content-type": formType, "if-match": '"1"' },
        body: recordForm({ fullName: "Bob Was Here", dateOfBirth: "1990-01-01" }),
      });
      f.expect(change.status === 404, `bob's update got ${change.status}`);
      f.expect((await p.api(`${path}/audit`, { token: bob })).status === 404, "bob read its audit trail");
      const del = await p.api(path, { method: "DELETE", token: bob });
      f.expect(del.status === 404, `bob's delete got ${del.status}`);
      const mine = await p.api(path, { token: p.alice.token });
      const body = (await mine.json().catch(() => ({}))) as Record<string, string>;
      f.expect(mine.status === 200 && body.fullName === c.fullName, "alice's record was changed or lost");
      return f.list;
    },
  },
  envelopeEncryption: {
    title: "no canary in any table or column of the database",
    async run(p) {
      const f = new Findings();
      const c = makeCanaries();
      const created = await createRecord(p, p.alice.token, canaryFields(c));
      f.expect(created.status === 201, `create got ${created.status}`);
      const hits = await scanDatabase(p.databaseUrl, canaryFields(c));
      for (const h of hits) f.list.push(`${h.canary} in ${h.location}`);
      return f.list;
    },
  },
  encryptionContext: {
    title: "a ciphertext moved to another record or owner in the database does not decrypt",
    async run(p) {
      const f = new Findings();
      const a = makeCanaries();
      const source = await createRecord(p, p.alice.token, canaryFields(a));
      const target = await createRecord(p, p.alice.token, canaryFields(makeCanaries()));
      const foreign = await createRecord(p, p.bob.token, canaryFields(makeCanaries()));
      await withDb(p, async (db) => {
        for (const to of [target.id, foreign.id])
          await db.query(
            "UPDATE records SET ciphertext = (SELECT ciphertext FROM records WHERE id = $1) WHERE id = $2",
            [source.id, to],
          );
      });
      for (const [who, id, token] of [
        ["another record of the owner", target.id, p.alice.token],
        ["another owner's record", foreign.id, p.bob.token],
      ] as const) {
        const res = await p.api(`/api/records/${id}`, { token });
        const text = await res.text();
        f.expect(res.status !== 200 && !text.includes(a.tag), `moved to ${who}: ${res.status}, decrypted`);
      }
      return f.list;
    },
  },
  logRedaction: {
    title: "no canary in any log line, even when the function logs its decrypted input",
    async run(p) {
      const f = new Findings();
      const c = makeCanaries();
      const created = await createRecord(p, p.alice.token, canaryFields(c));
      f.expect(created.status === 201, `create got ${created.status}`);
      await waitForLog(p, created.requestId);
      const hits = await scanFiles([p.stack.info.logDir], canaryFields(c));
      for (const h of hits) f.list.push(`${h.canary} in ${h.location}`);
      return f.list;
    },
  },
  auditTrail: {
    title: "every create and read of a record is on its append-only audit trail",
    async run(p) {
      const f = new Findings();
      const { id } = await createRecord(p, p.alice.token, canaryFields(makeCanaries()));
      await p.api(`/api/records/${id}`, { token: p.alice.token });
      // The newest record heads the list: a page with its name puts it on the trail too.
      const listed = await p.api("/api/records?limit=1", { token: p.alice.token });
      const page = (await listed.json().catch(() => ({}))) as { items?: { id: string }[] };
      f.expect(page.items?.[0]?.id === id, `the list page did not show the new record (${listed.status})`);
      const res = await p.api(`/api/records/${id}/audit`, { token: p.alice.token });
      const body = (await res.json().catch(() => ({}))) as { items?: { action: string }[] };
      f.expect(res.status === 200, `audit answered ${res.status}`);
      f.expect(
        JSON.stringify((body.items ?? []).map((i) => i.action)) === '["create","read","list"]',
        `the trail is ${JSON.stringify(body.items)}, not create, read, then list`,
      );
      const tamper = await withDb(p, (db) =>
        db.query("DELETE FROM audit_events WHERE record_id = $1", [id]).then(
          () => "deleted",
          () => "refused",
        ),
      );
      f.expect(tamper === "refused", "the audit trail could be deleted");
      return f.list;
    },
  },
  idempotency: {
    title: "a retried create with the same Idempotency-Key returns the first record, not a second",
    async run(p) {
      const f = new Findings();
      const key = `proof-${makeCanaries().tag}`;
      const fields = canaryFields(makeCanaries());
      const first = await createRecord(p, p.alice.token, fields, { "idempotency-key": key });
      const again = await createRecord(p, p.alice.token, fields, { "idempotency-key": key });
      f.expect(first.status === 201 && again.status === 201, `answers ${first.status}, ${again.status}`);
      f.expect(first.id !== undefined && first.id === again.id, "the retry made a second record");
      const other = await createRecord(p, p.alice.token, canaryFields(makeCanaries()), {
        "idempotency-key": key,
      });
      f.expect(other.status === 422, `the key reused for another request got ${other.status}`);
      return f.list;
    },
  },
  kmsKeyPolicy: {
    title: "only the function role may use the records key; developers and key admins get AccessDenied",
    async run(p) {
      const f = new Findings();
      const ids = p.stack.identities;
      const keyId = ids.recordsKeyArn ?? "";
      const context = { app: "veil", stage: "local", purpose: "record.sensitive" };
      const { CiphertextBlob } = await kmsAs(p, ids.functionRole).send(
        new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from("probe"), EncryptionContext: context }),
      );
      for (const [name, who] of [
        ["developer", ids.developer],
        ["key admin", ids.adminRole],
      ] as const) {
        const kms = kmsAs(p, who);
        f.expect(
          await denied(kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: context }))),
          `${name} could decrypt`,
        );
        f.expect(
          await denied(kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: "AES_256" }))),
          `${name} could make data keys`,
        );
      }
      const open = JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "kms:*", Resource: "*" }],
      });
      f.expect(
        await denied(kmsAs(p, ids.developer).send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: open }))),
        "a developer could change the key policy",
      );
      return f.list;
    },
  },
};
