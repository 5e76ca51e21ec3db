/**
 * The browser tests' capture has teeth: with the records function's `sealing` control switched off,
 * a record the browser creates comes back in clear in the list, and the scan of both hops finds its
 * canaries there (the browser itself refuses such an answer). A capture that missed the browser's
 * traffic, or a scan that missed a form, would pass here and fail this file.
 */
import { randomBytes, randomInt } from "node:crypto";
import { recordFields } from "@veil/core";
import type { Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "./harness.ts";

const tag = randomBytes(5).toString("hex");
const canaries = {
  fullName: `Teeth Canary${tag}`,
  insuranceNumber: `CNRY${randomInt(1e9, 9e9)}`,
  diagnosis: `Teeth diagnosis ${tag} "quoted" & more`,
};
const user = { email: `teeth-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;

const answerTo = (method: string, path: string) =>
  page.waitForResponse(
    (r: Response) => r.request().method() === method && new URL(r.url()).pathname === path,
  );

describe("the capture of both hops finds an answer that left the function unsealed", () => {
  beforeAll(async () => {
    h = await startHarness({ disableControl: "sealing" });
    page = h.page;
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("signs up, creates a record and lists it (answers in clear: the page refuses them)", async () => {
    await page.goto(h.baseUrl);
    await page.getByRole("tab", { name: "Create Account" }).click();
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByLabel("Confirm Password").fill(user.password);
    const firstList = answerTo("GET", "/api/records");
    await page.getByRole("button", { name: "Create Account" }).click();
    expect((await firstList).status()).toBe(200);

    await page.goto(`${h.baseUrl}/records/new`);
    const field = (name: keyof typeof recordFields) =>
      page.getByLabel(recordFields[name].label, { exact: false });
    await field("category").selectOption("neurology");
    await field("dateOfBirth").fill("1970-01-31");
    for (const [name, value] of Object.entries(canaries))
      await field(name as keyof typeof recordFields).fill(value);
    const created = answerTo("POST", "/api/records");
    await page.getByRole("button", { name: "Create record" }).click();
    expect((await created).status()).toBe(201);

    const list = answerTo("GET", "/api/records");
    await page.goto(h.baseUrl);
    const answer = await list;
    expect(answer.status()).toBe(200);
    expect(answer.headers()["content-type"]).toMatch(/^application\/json/);
  });

  it("the scan finds the canaries in the answers at CloudFront and past it", () => {
    const leaks = h.capture.leaks(canaries);
    expect(leaks).toContain("fullName in answers at CloudFront");
    expect(leaks).toContain("fullName in answers past CloudFront");
  });
});
