/**
 * One user's everyday use in Chromium, against a whole local stack on a real PostgreSQL and a versioned
 * S3 (a test Swift): sign up, three records full of canaries, the list with their names, search by
 * name, insurance number and diagnosis, detail, history, edit, an image up and down, the export
 * archive, reload / sign-out / sign-in, the session's token and proof replayed from elsewhere (401),
 * and account deletion — after which no store, object version or log holds anything of the user's,
 * and no answer at either hop ever held a canary in clear.
 */
import { randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { type RecordFieldName, recordFields } from "@veil/core";
import { strFromU8, unzipSync } from "fflate";
import { decodeJwt } from "jose";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../packages/db/src/testing/postgres.ts";
import { createApiClient } from "../../packages/local/src/client/index.ts";
import { listAllVersions } from "../../packages/local/src/s3/versions.ts";
import { scanDatabase, scanFiles } from "../../packages/local/src/scan/index.ts";
import { jpegFixture } from "../../packages/storage/src/testing/images.ts";
import { startTestSwift, type TestSwift } from "../../packages/storage/src/testing/swift.ts";
import { type Harness, signUp, startHarness } from "./harness.ts";

const region = "eu-central-2";
const tag = randomBytes(5).toString("hex");
const insurance = () => `CNRY${randomInt(1e9, 9e9)}`;
const records = [
  {
    category: "cardiology",
    fullName: `Ada Lovelace${tag}`,
    insuranceNumber: insurance(),
    diagnosis: `Canary arrhythmia ${tag}`,
  },
  {
    category: "neurology",
    fullName: `Ben Babbage${tag}`,
    insuranceNumber: insurance(),
    diagnosis: `Canary migraine ${tag}`,
  },
  {
    category: "radiology",
    fullName: `Cy Hopper${tag}`,
    insuranceNumber: insurance(),
    diagnosis: `Canary fracture ${tag}`,
  },
] as const;
const revisedDiagnosis = `Canary revised ${tag} "quoted" & more`;
const keptCanary = `KEPT${tag}JOURNEY`;
const exifCanary = `EXIF-CANARY-${tag}`;
const photo = jpegFixture({
  width: 48,
  height: 32,
  keptBytes: Buffer.from(keptCanary),
  exifText: exifCanary,
});
const user = { email: `journey-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

/** Every value of this file that must never cross a hop in clear nor outlive the account. */
const canaries: Record<string, string> = {
  ...Object.fromEntries(
    records.flatMap((r, i) => [
      [`r${i}.fullName`, r.fullName],
      [`r${i}.insuranceNumber`, r.insuranceNumber],
      [`r${i}.diagnosis`, r.diagnosis],
    ]),
  ),
  revisedDiagnosis,
  imagePixels: keptCanary,
  imageExif: exifCanary,
};

let pgServer: TestPostgres;
let swift: TestSwift;
let h: Harness;
let page: Page;
const recordIds: string[] = [];
const apiRequests: { url: string; method: string; headers: Record<string, string>; at: number }[] = [];

const field = (name: RecordFieldName) => page.getByLabel(recordFields[name].label, { exact: false });
const main = () => page.getByRole("main");
const status = (text: string) => page.getByRole("status").filter({ hasText: text });

async function signIn() {
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function expectListShowsAll() {
  for (const r of records) await main().getByRole("link", { name: r.fullName }).waitFor();
}

describe("everyday use in Chromium, then account deletion leaves nothing of the user's", () => {
  beforeAll(async () => {
    [pgServer, swift] = await Promise.all([startTestPostgres(), startTestSwift({ region })]);
    h = await startHarness({
      databaseUrl: pgServer.connectionString,
      region,
      s3: { endpoint: swift.endpoint, credentials: swift.credentials, dataDir: swift.dataDir },
    });
    page = h.page;
    page.on("request", (r: Request) => {
      if (new URL(r.url()).pathname.startsWith("/api/"))
        apiRequests.push({ url: r.url(), method: r.method(), headers: r.headers(), at: Date.now() });
    });
  });

  afterAll(async () => {
    await h?.stop();
    await Promise.all([pgServer?.stop(), swift?.stop()]);
  });

  it("signs up and creates three records", async () => {
    await page.goto(h.baseUrl);
    await signUp(page, user);
    for (const r of records) {
      await main().getByRole("link", { name: "New record" }).click();
      await page.getByRole("heading", { level: 1, name: "New record" }).waitFor();
      await field("category").selectOption(r.category);
      await field("fullName").fill(r.fullName);
      await field("dateOfBirth").fill("1970-01-31");
      await field("insuranceNumber").fill(r.insuranceNumber);
      await field("diagnosis").fill(r.diagnosis);
      await page.getByRole("button", { name: "Create record" }).click();
      await status("Record created").waitFor();
      recordIds.push(new URL(page.url()).pathname.split("/")[2] ?? "");
      await page.getByRole("link", { name: "All records" }).click();
    }
    expect(recordIds).toHaveLength(3);
    for (const id of recordIds) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("lists the records by name; the search narrows to one by name, insurance number or diagnosis", async () => {
    await expectListShowsAll();
    await status("3 records").waitFor();
    const box = page.getByRole("searchbox", { name: /Search by name/ });
    const only = async (query: string, expected: (typeof records)[number]) => {
      await box.fill(query);
      await status("1 record matches").waitFor();
      await main().getByRole("link", { name: expected.fullName }).waitFor();
      for (const other of records.filter((r) => r !== expected))
        expect(await main().getByRole("link", { name: other.fullName }).count()).toBe(0);
    };
    await only(records[1].fullName, records[1]);
    await only(records[2].insuranceNumber, records[2]);
    await only(records[0].diagnosis, records[0]);
    await box.fill("");
    await expectListShowsAll();
  });

  it("opens a record, its history, and edits it", async () => {
    await main().getByRole("link", { name: records[0].fullName }).click();
    await page.getByRole("heading", { level: 1, name: "Cardiology record" }).waitFor();
    await main().getByText(records[0].insuranceNumber).waitFor();
    await page.getByRole("link", { name: "Access history" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Access history" }).waitFor();
    await page.locator("table.history tbody tr").first().waitFor();
    const actions = await page.locator("table.history tbody .action").allTextContents();
    expect(actions).toContain("Created");
    expect(actions).toContain("Opened");
    await page.getByRole("link", { name: "Back to the record" }).click();
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Edit record" }).waitFor();
    await field("diagnosis").fill(revisedDiagnosis);
    await page.getByRole("button", { name: "Save changes" }).click();
    await status("Changes saved").waitFor();
    await main().getByText(revisedDiagnosis).waitFor();
  });

  it("uploads an image and downloads it byte-identical, its location data removed", async () => {
    await page.getByLabel("Add image or PDF").setInputFiles({
      name: "scan.jpg",
      mimeType: "image/jpeg",
      buffer: photo.original,
    });
    await status("Image added.").waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    const bytes = readFileSync(await download.path());
    expect(bytes.equals(photo.stripped)).toBe(true);
    expect(bytes.includes(Buffer.from(keptCanary))).toBe(true);
  });

  it("downloads one archive with every record's canaries and the image", async () => {
    await page.getByRole("link", { name: "Your data" }).click();
    await page.getByRole("button", { name: "Download my data" }).click();
    const save = page.getByRole("link", { name: /^Save veil-export-\d{4}-\d{2}-\d{2}\.zip$/ });
    await save.waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent("download"), save.click()]);
    const entries = unzipSync(readFileSync(await download.path()));
    const json = strFromU8(entries["records.json"] as Uint8Array);
    const doc = JSON.parse(json) as { records: { id: string; images: { file: string }[] }[] };
    expect(doc.records.map((r) => r.id).sort()).toEqual([...recordIds].sort());
    const expected = Object.entries(canaries).filter(([k]) => !k.startsWith("image") && k !== "r0.diagnosis");
    for (const [label, value] of expected) expect(json, label).toContain(JSON.stringify(value).slice(1, -1));
    const file = doc.records.find((r) => r.id === recordIds[0])?.images[0]?.file ?? "";
    expect(Buffer.from(entries[file] as Uint8Array).equals(photo.stripped)).toBe(true);
  });

  it("reloads still signed in, signs out, and signs in again", async () => {
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Your data" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await signIn();
    await expectListShowsAll();
  });

  it("the session's token and a proof seen in its traffic, replayed from elsewhere, get 401 at CloudFront", async () => {
    const seen = apiRequests.filter((r) => r.method === "GET" && r.headers.dpop).at(-1);
    if (!seen) throw new Error("no API request with a proof was seen");
    const token = (seen.headers.authorization ?? "").replace(/^Bearer /, "");
    const proof = seen.headers.dpop ?? "";
    // Fresh enough that only its reuse can be the reason for a refusal (proofs live 60 s).
    expect(Date.now() / 1000 - Number(decodeJwt(proof).iat)).toBeLessThan(45);
    const refused = async (res: Response) => {
      const text = await res.text();
      expect(res.status).toBe(401);
      expect(JSON.parse(text)).toHaveProperty("requestId");
      expect(Object.keys(canaries).filter((k) => text.includes(canaries[k] ?? "\0"))).toEqual([]);
    };
    const bearer = { authorization: `Bearer ${token}` };
    await refused(await fetch(seen.url, { headers: bearer }));
    await refused(await fetch(seen.url, { headers: { ...bearer, dpop: proof } }));
    await refused(await createApiClient().fetch(seen.url, { token }));
    // The browser's own session is untouched.
    await page.getByRole("link", { name: "Records", exact: true }).click();
    await page.reload();
    await expectListShowsAll();
  });

  it("deletes the account after the typed confirmation; the user cannot sign in again", async () => {
    await page.getByRole("link", { name: "Your data" }).click();
    const erase = page.getByRole("button", { name: "Delete my account" });
    await expect(erase.isDisabled()).resolves.toBe(true);
    await page.getByLabel("Type delete my account to confirm").fill("delete my account");
    await erase.click();
    await page
      .getByRole("alert")
      .filter({ hasText: "Your account and all its records and images were deleted." })
      .waitFor({ timeout: 60_000 });
    await signIn();
    await page
      .getByRole("alert")
      .filter({ hasText: /incorrect|not|exist/i })
      .waitFor();
    await expect(page.getByRole("button", { name: "Sign out" }).isVisible()).resolves.toBe(false);
  });

  it("leaves nothing of the user's in the database, any S3 version, the state folder or any log", async () => {
    const token = apiRequests.at(-1)?.headers.authorization?.replace(/^Bearer /, "") ?? "";
    const sub = String(decodeJwt(token).sub);
    await h.stack.images.cleanUp();
    const ids = {
      sub,
      email: user.email,
      ...Object.fromEntries(recordIds.map((id, i) => [`record${i}`, id])),
    };
    // PostgreSQL, every table and column: no canary, no id (the trail keeps non-identifying rows).
    expect(await scanDatabase(pgServer.connectionString, { ...canaries, ...ids })).toEqual([]);
    // The state folder (Cognito's users, KMS, secrets) and every component's log: no canary, no owner
    // id or e-mail. Record ids stay only in the local CloudFront's access log (request paths), kept
    // for the log retention (docs/erasure.md). The stack's logs flush asynchronously.
    await expect
      .poll(async () => (await scanFiles([h.stateDir], canaries)).length, { timeout: 2_000 })
      .toBe(0);
    const hits = await scanFiles([h.stateDir], { ...canaries, ...ids });
    const loggedIds = /[\\/]logs[\\/](cloudfront|images-download|images-ingest)\.log$/;
    expect(hits.filter((x) => !(/^record\d$/.test(x.canary) && loggedIds.test(x.location)))).toEqual([]);
    // Every object version Swift keeps, current and noncurrent, byte for byte: no canary.
    expect(await scanFiles([swift.dataDir], canaries)).toEqual([]);
    // What is left under the user's keys: delete markers and noncurrent (encrypted) versions only,
    // which the buckets' lifecycle purges after the stated grace period.
    const left = (await listAllVersions(h.stack.images.s3.info, region)).filter((v) => v.key.includes(sub));
    expect(left.length).toBeGreaterThan(0);
    expect(left.filter((v) => v.latest && !v.deleteMarker)).toEqual([]);
  });

  it("no canary crossed CloudFront or the gateway in clear: answers at both hops, requests past CloudFront", () => {
    // The recorders saw the browser's traffic: the forms reach CloudFront in clear, by design.
    expect(h.capture.sentByViewer(records[0].fullName)).toBe(true);
    expect(h.capture.leaks(canaries)).toEqual([]);
  });
});
