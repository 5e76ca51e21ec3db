/**
 * The restore drill, on a real PostgreSQL: records and an image go in through the API, the database is
 * dumped (`pg_dump`), destroyed (dropped and created empty) and restored (`pg_restore`), and a new
 * stack on the same state (keys, buckets, users) reads every record and the image back through the
 * API, equal to what it returned before. A backup that only restores rows is not enough: the rows are
 * ciphertext, and this shows they still decrypt under the keys that survived.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresBinDir, startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { jpegFixture } from "@veil/storage/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signIn, signUpAndSignIn } from "../cognito/index.ts";
import { imageClient } from "../s3/testing.ts";
import { ephemeralPorts } from "../stack/config.ts";
import { type LocalStack, startLocalStack } from "../stack/start.ts";
import { canaryFields, formType, makeCanaries, recordForm } from "./harness.ts";

const tag = randomBytes(5).toString("hex");
const user = {
  email: `drill-${tag}@users.example.net`,
  password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
};

let pgServer: TestPostgres;
let stateDir: string;
let stack: LocalStack | undefined;

const start = () =>
  startLocalStack({
    stateDir,
    ports: ephemeralPorts,
    databaseUrl: pgServer.connectionString,
    webRoot: stateDir,
  });

/** A connection string to another database of the same server (to drop and create ours). */
function otherDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** What the owner reads back: each record, the list, the record's images and the image's bytes. */
async function readAll(
  client: ReturnType<typeof imageClient>,
  ids: readonly string[],
  image: { record: string; id: string },
) {
  const json = async (path: string) => {
    const res = await client.api(path);
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const records = [];
  for (const id of ids) records.push(await json(`/api/records/${id}`));
  const download = await client.download(image.record, image.id);
  expect(download.status).toBe(200);
  return {
    records,
    list: await json("/api/records"),
    images: await json(`/api/records/${image.record}/images`),
    image: Buffer.from(await download.arrayBuffer()).toString("base64"),
  };
}

beforeAll(async () => {
  pgServer = await startTestPostgres();
  stateDir = mkdtempSync(join(tmpdir(), "veil-restore-"));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await pgServer?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("restore drill: pg_dump, destroy, pg_restore", () => {
  const ids: string[] = [];
  let image = { record: "", id: "" };
  let before: Awaited<ReturnType<typeof readAll>>;
  const dump = () => join(stateDir, "veil.dump");

  it("writes records and an image through the API and reads them back", async () => {
    stack = await start();
    const { accessToken } = await signUpAndSignIn(
      stack.info.cognito.endpoint,
      stack.info.cognito.clientId,
      user,
    );
    const client = imageClient(stack, accessToken);
    for (const category of ["neurology", "cardiology", "radiology"]) {
      const res = await client.api("/api/records", {
        method: "POST",
        headers: { "content-type": formType },
        body: recordForm(canaryFields(makeCanaries()), category),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const uploaded = await client.upload(
      ids[2]!,
      "image/jpeg",
      jpegFixture({ width: 32, height: 24 }).original,
    );
    expect(uploaded.image.status).toBe("ready");
    image = { record: ids[2]!, id: uploaded.ticket.imageId };
    before = await readAll(client, ids, image);
    expect(JSON.stringify(before.records)).toContain("Canary Fullname");
  }, 120_000);

  it("dumps the database, destroys it, and restores the dump into an empty one", async () => {
    await stack?.stop();
    stack = undefined;
    const bin = postgresBinDir();
    const url = pgServer.connectionString;
    const database = new URL(url).pathname.slice(1);
    execFileSync(join(bin, "pg_dump"), ["--format=custom", `--file=${dump()}`, `--dbname=${url}`], {
      stdio: "pipe",
    });
    expect(statSync(dump()).size).toBeGreaterThan(0);

    const admin = new pg.Client({ connectionString: otherDatabase(url, "template1") });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE "${database}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
      await admin.end();
    }
    const empty = new pg.Client({ connectionString: url });
    await empty.connect();
    try {
      expect((await empty.query("SELECT to_regclass('public.records') AS t")).rows[0].t).toBeNull();
    } finally {
      await empty.end();
    }

    execFileSync(join(bin, "pg_restore"), ["--exit-on-error", `--dbname=${url}`, dump()], { stdio: "pipe" });
  }, 120_000);

  it("reads every record, the list and the image back equal, through a new stack", async () => {
    stack = await start();
    const { accessToken } = await signIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, user);
    const after = await readAll(imageClient(stack, accessToken), ids, image);
    expect(after.records).toEqual(before.records);
    expect(after.list).toEqual(before.list);
    expect(after.images).toEqual(before.images);
    expect(after.image).toBe(before.image);
  }, 120_000);
});
