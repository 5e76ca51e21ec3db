import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { recordFields } from "@veil/core";
import { strFromU8, unzipSync } from "fflate";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jpegFixture } from "../../packages/storage/src/testing/images.ts";
import { type Harness, screenshots, signUp, startHarness } from "./harness.ts";

const tag = randomBytes(5).toString("hex");
const name = `Canary Export ${tag}`;
const diagnosis = `Canary diagnosis ${tag} "quoted" & more`;
const keptCanary = `KEPT${tag}EXPORT`;
const photo = jpegFixture({ width: 32, height: 24, keptBytes: Buffer.from(keptCanary) });
const user = { email: `account-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;

describe("Your data: download my data, delete my account (Chromium against the local stack)", () => {
  beforeAll(async () => {
    h = await startHarness();
    page = h.page;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("signs up, creates a record with an image", async () => {
    await page.goto(h.baseUrl);
    await signUp(page, user);
    await page.getByRole("main").getByRole("link", { name: "New record" }).click();
    await page.getByLabel(recordFields.category.label, { exact: false }).selectOption("radiology");
    await page.getByLabel(recordFields.fullName.label, { exact: false }).fill(name);
    await page.getByLabel(recordFields.dateOfBirth.label, { exact: false }).fill("1980-02-03");
    await page.getByLabel(recordFields.diagnosis.label, { exact: false }).fill(diagnosis);
    await page.getByRole("button", { name: "Create record" }).click();
    await page.getByRole("status").filter({ hasText: "Record created" }).waitFor();
    await page.setInputFiles("#record-image-file", {
      name: "scan.jpg",
      mimeType: "image/jpeg",
      buffer: photo.original,
    });
    await page.getByRole("status").filter({ hasText: "Image added." }).waitFor({ timeout: 60_000 });
  });

  it("downloads one archive with every field and the image, decrypted in the page", async () => {
    await page.getByRole("link", { name: "Your data" }).click();
    await page.getByRole("button", { name: "Download my data" }).click();
    const save = page.getByRole("link", { name: /^Save veil-export-\d{4}-\d{2}-\d{2}\.zip$/ });
    await save.waitFor({ timeout: 60_000 });
    await screenshots(page, "40-your-data");
    const [download] = await Promise.all([page.waitForEvent("download"), save.click()]);
    expect(download.suggestedFilename()).toMatch(/^veil-export-\d{4}-\d{2}-\d{2}\.zip$/);
    const entries = unzipSync(readFileSync(await download.path()));
    const doc = JSON.parse(strFromU8(entries["records.json"] as Uint8Array));
    expect(doc.records).toHaveLength(1);
    expect(doc.records[0]).toMatchObject({ fullName: name, diagnosis, category: "radiology" });
    const file = doc.records[0].images[0].file as string;
    expect(file).toMatch(/^images\/[0-9a-f-]{36}\/[0-9a-f-]{36}\.jpg$/);
    expect(Buffer.from(entries[file] as Uint8Array).equals(photo.stripped)).toBe(true);
  });

  it("deletes the account only after the phrase is typed; then the user cannot sign in", async () => {
    const erase = page.getByRole("button", { name: "Delete my account" });
    await expect(erase.isDisabled()).resolves.toBe(true);
    await page.getByLabel("Type delete my account to confirm").fill("delete my");
    await expect(erase.isDisabled()).resolves.toBe(true);
    await page.getByLabel("Type delete my account to confirm").fill("delete my account");
    await erase.click();
    await page
      .getByRole("alert")
      .filter({ hasText: "Your account and all its records and images were deleted." })
      .waitFor({
        timeout: 60_000,
      });
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /incorrect|not|exist/i })
      .waitFor();
    await expect(page.getByRole("heading", { name: "No records yet" }).isVisible()).resolves.toBe(false);
  });

  it("no canary crossed CloudFront or the gateway in clear: answers at both hops, requests past CloudFront", () => {
    expect(h.capture.sentByViewer(name)).toBe(true);
    expect(h.capture.leaks({ name, diagnosis, keptCanary })).toEqual([]);
  });
});
