/**
 * Portability and erasure through the whole local stack on a versioned S3 (Swift): a user creates
 * records full of canaries and an image, exports everything through CloudFront (every field and the
 * image come back), deletes the account, and then a scan of the database, of every S3 version and
 * delete marker, of every file of the state folder and of every log finds none of the user's canaries
 * or ids — except the ids in the keys of noncurrent versions and delete markers, which the buckets'
 * lifecycle removes after the stated retention (docs/erasure.md). The user can no longer sign in,
 * and no access token issued before the erasure (still valid offline until it expires) is accepted
 * again, with a fresh proof key or from a sign-in that never made a request; another user's data is
 * untouched.
 */
import { randomBytes } from "node:crypto";
import { ListObjectVersionsCommand, S3Client } from "@aws-sdk/client-s3";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { imageKey, inboxKey } from "@veil/storage";
import { jpegFixture, startTestSwift, type TestSwift } from "@veil/storage/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiClient } from "../client/index.ts";
import { signIn, signUpAndSignIn } from "../cognito/index.ts";
import { jwtClaims } from "../cognito/signing-key.ts";
import { imageClient } from "../s3/testing.ts";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import {
  canaryFields,
  formType,
  makeCanaries,
  type ProofStack,
  recordForm,
  startProofStack,
} from "./harness.ts";

const region = "eu-central-2";
const tag = randomBytes(5).toString("hex");
const pixels = `CANARY-ERASE-PIXELS-${tag}-`;
const user = {
  email: `erase-${tag}@users.example.net`,
  password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
};

let pgServer: TestPostgres;
let swift: TestSwift;
let proof: ProofStack;
let token = "";
/** A second sign-in of the same user that makes no request before the erasure (no session binding). */
let idleToken = "";
let sub = "";
const canaries: Record<string, string> = {};
const recordIds: string[] = [];
let imageId = "";
let bobRecord = "";

beforeAll(async () => {
  [pgServer, swift] = await Promise.all([startTestPostgres(), startTestSwift({ region })]);
  proof = await startProofStack({
    databaseUrl: pgServer.connectionString,
    region,
    s3: { endpoint: swift.endpoint, credentials: swift.credentials, dataDir: swift.dataDir },
  });
  token = (await signUpAndSignIn(proof.stack.info.cognito.endpoint, proof.stack.info.cognito.clientId, user))
    .accessToken;
  sub = String(jwtClaims(token).sub);
  idleToken = (await signIn(proof.stack.info.cognito.endpoint, proof.stack.info.cognito.clientId, user))
    .accessToken;
  expect(jwtClaims(idleToken).origin_jti).not.toBe(jwtClaims(token).origin_jti);
}, 180_000);

afterAll(async () => {
  await proof?.stop();
  await Promise.all([pgServer?.stop(), swift?.stop()]);
});

/** Every version and delete marker of both buckets, with the key. */
async function allVersions() {
  const info = proof.stack.images.s3.info;
  const s3 = new S3Client({
    region,
    endpoint: info.endpoint,
    credentials: info.credentials,
    forcePathStyle: true,
  });
  const out: { bucket: string; key: string; latest: boolean; marker: boolean }[] = [];
  for (const bucket of [info.buckets.images, info.buckets.inbox]) {
    const res = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    for (const v of res.Versions ?? [])
      out.push({ bucket, key: v.Key ?? "", latest: !!v.IsLatest, marker: false });
    for (const m of res.DeleteMarkers ?? [])
      out.push({ bucket, key: m.Key ?? "", latest: !!m.IsLatest, marker: true });
  }
  s3.destroy();
  return out;
}

describe("download my data, then delete my account", () => {
  it("creates records with canaries and an image", async () => {
    const api = imageClient(proof.stack, token);
    for (const [i, category] of ["neurology", "cardiology", "radiology"].entries()) {
      const c = makeCanaries();
      for (const [k, v] of Object.entries(canaryFields(c))) canaries[`r${i}.${k}`] = v;
      const res = await api.api("/api/records", {
        method: "POST",
        headers: { "content-type": formType, "idempotency-key": `erase-test-${tag}-${i}` },
        body: recordForm(canaryFields(c), category),
      });
      expect(res.status).toBe(201);
      recordIds.push(((await res.json()) as { id: string }).id);
    }
    const uploaded = await api.upload(
      recordIds[0]!,
      "image/jpeg",
      jpegFixture({ keptBytes: Buffer.from(pixels) }).original,
    );
    expect(uploaded.image.status).toBe("ready");
    imageId = uploaded.ticket.imageId;
    // Bob keeps his record through Alice's... through this user's erasure.
    const bob = await proof.api("/api/records", {
      method: "POST",
      token: proof.bob.token,
      headers: { "content-type": formType },
      body: recordForm(canaryFields(makeCanaries())),
    });
    bobRecord = ((await bob.json()) as { id: string }).id;
  }, 120_000);

  it("exports every record with every field, and the image, through CloudFront", async () => {
    const api = imageClient(proof.stack, token);
    const items: { id: string; images: { id: string; status: string }[] }[] = [];
    let cursor: string | undefined;
    do {
      const res = await api.api(`/api/export${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { items: typeof items; nextCursor?: string };
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(items.map((r) => r.id).sort()).toEqual([...recordIds].sort());
    const text = JSON.stringify(items);
    for (const [label, value] of Object.entries(canaries))
      expect(text, label).toContain(JSON.stringify(value).slice(1, -1));
    const withImage = items.find((r) => r.id === recordIds[0]);
    expect(withImage?.images).toEqual([expect.objectContaining({ id: imageId, status: "ready" })]);
    const image = await api.download(recordIds[0]!, imageId);
    expect(image.status).toBe(200);
    expect(Buffer.from(await image.arrayBuffer()).includes(Buffer.from(pixels))).toBe(true);
    // Every exported record is on the trail.
    const db = new pg.Client({ connectionString: pgServer.connectionString });
    await db.connect();
    try {
      const { rows } = await db.query(
        "SELECT count(DISTINCT record_id)::int AS n FROM audit_events WHERE owner_id = $1 AND action = 'export'",
        [sub],
      );
      expect(rows[0].n).toBe(3);
    } finally {
      await db.end();
    }
  }, 120_000);

  it("deletes the account: nothing of the user is left but what the lifecycle expires, and no sign-in", async () => {
    // The same client (and so the same proof key) as the session's earlier requests.
    const res = await imageClient(proof.stack, token).api("/api/account", { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { erased: unknown }).erased).toMatchObject({
      records: 3,
      images: 1,
      imageObjects: 1,
      user: "deleted",
    });
    await expect(
      signIn(proof.stack.info.cognito.endpoint, proof.stack.info.cognito.clientId, user),
    ).rejects.toMatchObject({ type: "NotAuthorizedException" });
    await proof.stack.images.cleanUp();

    const ids: Record<string, string> = {
      sub,
      email: user.email,
      image: imageId,
      ...Object.fromEntries(recordIds.map((id, i) => [`record${i}`, id])),
    };
    const needles = { ...canaries, pixels, ...ids };
    // The database: not a canary, not an id (audit rows say only what happened and when).
    expect(await scanDatabase(pgServer.connectionString, needles)).toEqual([]);
    // The state folder (Cognito's users, KMS, secrets) and every log of every component: no canary, no
    // owner id, no e-mail. Record and image ids stay only where operations log them on purpose and
    // logs cannot be edited: the local CloudFront's access log (request paths) and the image
    // functions' lines (image ids), each kept for the log retention (docs/erasure.md).
    await new Promise((r) => setTimeout(r, 500));
    const loggedIds = /[\\/]logs[\\/](cloudfront|images-download|images-ingest)\.log$/;
    const hits = await scanFiles([proof.stateDir], needles);
    expect(hits.filter((h) => !(/^(record\d|image)$/.test(h.canary) && loggedIds.test(h.location)))).toEqual(
      [],
    );
    // Every object version Swift keeps, current and noncurrent: ciphertext only, no canary.
    expect(await scanFiles([swift.dataDir], { ...canaries, pixels })).toEqual([]);
    // The user's keys: no current object anywhere; what remains is noncurrent or a delete marker.
    const versions = (await allVersions()).filter((v) => v.key.includes(sub));
    const stored = imageKey({ ownerId: sub, recordId: recordIds[0]!, imageId });
    expect(versions.some((v) => v.key === stored && v.latest && v.marker)).toBe(true);
    expect(versions.filter((v) => v.latest && !v.marker)).toEqual([]);
    expect(
      versions.every(
        (v) => v.key === stored || v.key === inboxKey({ ownerId: sub, recordId: recordIds[0]!, imageId }),
      ),
    ).toBe(true);

    // Another user's record is still there.
    const bob = await proof.api(`/api/records/${bobRecord}`, { token: proof.bob.token });
    expect(bob.status).toBe(200);
  }, 120_000);

  it("refuses every pre-erasure token afterwards (its own key, a fresh key, an idle sign-in) and writes nothing", async () => {
    const create = (client: ReturnType<typeof imageClient>) =>
      client.api("/api/records", {
        method: "POST",
        headers: {
          "content-type": formType,
          "idempotency-key": `after-erasure-${randomBytes(6).toString("hex")}`,
        },
        body: recordForm(canaryFields(makeCanaries())),
      });
    const attempts = [
      // The erased session with the key it was bound to, and with a fresh key (a rebinding attempt).
      imageClient(proof.stack, token),
      imageClient(proof.stack, token, createApiClient()),
      // A sign-in of the user that never made a request: nothing of it was bound before the erasure.
      imageClient(proof.stack, idleToken, createApiClient()),
    ];
    for (const client of attempts) {
      const res = await create(client);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "Unauthorized" });
      expect((await client.api("/api/records")).status).toBe(401);
    }
    // Nothing was written under the erased user's id, nor bound for it.
    const db = new pg.Client({ connectionString: pgServer.connectionString });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT (SELECT count(*) FROM records WHERE owner_id = $1)::int AS records,
                (SELECT count(*) FROM idempotency_keys WHERE owner_id = $1)::int AS keys,
                (SELECT count(*) FROM proof_sessions WHERE owner_id = $1)::int AS sessions,
                (SELECT count(*) FROM proof_sessions WHERE origin_jti = $2 AND revoked_at IS NOT NULL)::int AS markers`,
        [sub, jwtClaims(token).origin_jti],
      );
      expect(rows[0]).toEqual({ records: 0, keys: 0, sessions: 0, markers: 1 });
    } finally {
      await db.end();
    }
    expect(await scanDatabase(pgServer.connectionString, { sub, email: user.email })).toEqual([]);
  }, 120_000);
});
