import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { recordFields } from "@veil/core";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jpegFixture } from "../../packages/storage/src/testing/images.ts";
import { type Harness, screenshots, signUp, startHarness } from "./harness.ts";
import { type Observations, observe } from "./leaks.ts";

// Pixel bytes kept in the image, and an EXIF text next to its GPS position (removed by the server).
const tag = randomBytes(5).toString("hex");
const keptCanary = `KEPT${tag}PIXELS`;
const gpsCanary = `GPS-CANARY-${tag}`;
const photo = jpegFixture({ width: 96, height: 64, keptBytes: Buffer.from(keptCanary), exifText: gpsCanary });
const user = { email: `images-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;
let seen: Observations;
const puts: { url: string; body: Buffer }[] = [];

describe("images in the web app (Chromium against the local stack)", () => {
  beforeAll(async () => {
    h = await startHarness();
    page = h.page;
    seen = observe(page);
    page.on("request", (r: Request) => {
      if (r.method() === "PUT") puts.push({ url: r.url(), body: r.postDataBuffer() ?? Buffer.alloc(0) });
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("signs up and creates a record", async () => {
    await page.goto(h.baseUrl);
    await signUp(page, user);
    await page.getByRole("main").getByRole("link", { name: "New record" }).click();
    await page.getByLabel(recordFields.category.label, { exact: false }).selectOption("radiology");
    await page.getByLabel(recordFields.fullName.label, { exact: false }).fill("Image Owner");
    await page.getByLabel(recordFields.dateOfBirth.label, { exact: false }).fill("1980-02-03");
    await page.getByRole("button", { name: "Create record" }).click();
    await page.getByRole("status").filter({ hasText: "Record created" }).waitFor();
    await page.getByRole("heading", { name: "Images and documents" }).waitFor();
  });

  it("uploads a photo: encrypted in the page, PUT to S3 as ciphertext, checked and listed", async () => {
    await page.setInputFiles("#record-image-file", {
      name: "holiday-scan.jpg",
      mimeType: "image/jpeg",
      buffer: photo.original,
    });
    await page.getByRole("status").filter({ hasText: "Image added." }).waitFor({ timeout: 60_000 });
    const item = page.getByRole("list", { name: "Images of this record" }).getByRole("listitem");
    await expect(item.textContent()).resolves.toContain("Encrypted and stored");

    expect(puts).toHaveLength(1);
    const [put] = puts;
    expect(new URL(put?.url ?? "").origin).toBe(new URL(h.stack.images.s3.info.endpoint).origin);
    expect([...(put?.body.subarray(0, 4) ?? [])]).toEqual([0x01, 0x80, 0x01, 0x78]);
    expect(put?.body.includes(Buffer.from(keptCanary))).toBe(false);
    expect(put?.body.includes(Buffer.from(gpsCanary))).toBe(false);
    // No request to the API carried the file or its name.
    for (const r of seen.requests.filter((x) => x.url.includes("/api/"))) {
      expect(r.body).not.toContain(keptCanary);
      expect(r.body).not.toContain("holiday-scan");
    }
  });

  it("shows the decrypted photo in the page (it decodes) and downloads it byte-identical without its EXIF", async () => {
    await page.getByRole("button", { name: "Show" }).click();
    const img = page.getByRole("img", { name: "Attachment 1 of this record" });
    await img.waitFor();
    await expect
      .poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth))
      .toBe(96);
    await screenshots(page, "20-record-images");

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    const bytes = readFileSync(await download.path());
    expect(bytes.equals(photo.stripped)).toBe(true);
    expect(bytes.includes(Buffer.from(gpsCanary))).toBe(false);
    expect(download.suggestedFilename()).toMatch(/^image-[0-9a-f]{8}\.jpg$/);
  });

  it("refuses a file that is not an image with a clear message", async () => {
    await page.setInputFiles("#record-image-file", {
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("plain text"),
    });
    await page.getByRole("status").filter({ hasText: "Choose a JPEG, PNG, WebP or PDF file." }).waitFor();
    // A PNG-labelled file whose bytes are a GIF: refused by the server's check of the real type.
    await page.setInputFiles("#record-image-file", {
      name: "fake.png",
      mimeType: "image/png",
      buffer: Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1"),
    });
    await page
      .getByRole("status")
      .filter({ hasText: "This kind of file is not accepted" })
      .waitFor({ timeout: 60_000 });
  });

  it("the downloads are on the record's access history; no page error, no CSP violation", async () => {
    await page.getByRole("link", { name: "Access history" }).first().click();
    await page.locator("table.history tbody tr").first().waitFor();
    const actions = await page.locator("table.history tbody .action").allTextContents();
    expect(actions.filter((a) => a === "Image downloaded")).toHaveLength(2);
    expect(actions).toContain("Image added");
    expect(seen.pageErrors).toEqual([]);
    expect(seen.console.filter((m) => /Content Security Policy|Refused to/i.test(m))).toEqual([]);
    expect(seen.console.join("\n")).not.toContain(keptCanary);
  });

  it("no canary crossed CloudFront or the gateway in clear: answers at both hops, requests past CloudFront", () => {
    expect(h.capture.viewer.recorded("request").includes("/images")).toBe(true);
    expect(h.capture.leaks({ keptCanary, gpsCanary })).toEqual([]);
  });
});
