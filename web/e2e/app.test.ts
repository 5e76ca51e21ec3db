import { randomBytes, randomInt } from "node:crypto";
import { type RecordFieldName, recordFields, sensitiveFields } from "@veil/core";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, type PageDocument, screenshots, startHarness } from "./harness.ts";
import { findCanaries, type Observations, observe, sample } from "./leaks.ts";

declare const document: PageDocument;

// Unique values that must never show up outside the record's own page and its encrypted POST bodies.
const tag = randomBytes(5).toString("hex");
const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join("");
const record = {
  category: "cardiology",
  fullName: `Ada Canary${tag}`,
  dateOfBirth: "1971-03-17",
  insuranceNumber: `CN-${digits(9)}`,
  email: `canary.${tag}@example.com`,
  phone: `+41 79 ${digits(7)}`,
  diagnosis: `Diagnosis canary ${tag}`,
  notes: `Notes canary ${tag}\nsecond line & more`,
} as const;
const revisedDiagnosis = `Revised canary ${tag}`;
const canaries = [...sensitiveFields.map((f) => record[f]), revisedDiagnosis];

const user = { email: `e2e-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;
let seen: Observations;
let recordId = "";

/** The form control of a record field, found by its label from the classification. */
const field = (name: RecordFieldName) => page.getByLabel(recordFields[name].label, { exact: false });

/** Samples URL and storage, then screenshots at both widths. */
async function step(name: string) {
  await sample(page, h.context, seen);
  await screenshots(page, name);
}

async function expectFocusOnHeading(text: string) {
  await page.getByRole("heading", { level: 1, name: text }).waitFor();
  await expect
    .poll(() =>
      page.evaluate(() => `${document.activeElement?.tagName}:${document.activeElement?.textContent}`),
    )
    .toBe(`H1:${text}`);
}

async function fillRecord(values: Partial<Record<RecordFieldName, string>>) {
  for (const [name, value] of Object.entries(values) as [RecordFieldName, string][]) {
    if (name === "category") await field(name).selectOption(value);
    else await field(name).fill(value);
  }
}

describe("web app in Chromium against the local stack", () => {
  beforeAll(async () => {
    h = await startHarness();
    page = h.page;
    seen = observe(page);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("serves the app under the strict CSP and shows the sign-in screen", async () => {
    const res = await page.goto(h.baseUrl);
    const csp = res?.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    const html = (await res?.text()) ?? "";
    expect(html.match(/<script\b[^>]*>/g)?.every((t) => /\bsrc=/.test(t))).toBe(true);
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await step("01-sign-in");
  });

  it("signs up (auto-confirmed) and lands on the empty records list", async () => {
    await page.getByRole("tab", { name: "Create Account" }).click();
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByLabel("Confirm Password").fill(user.password);
    await step("02-sign-up");
    await page.getByRole("button", { name: "Create Account" }).click();
    await page.getByRole("heading", { name: "No records yet" }).waitFor();
    await expect(page.getByRole("button", { name: "Sign out" }).isVisible()).resolves.toBe(true);
    await step("03-records-empty");
  });

  it("creates a record: client hints, the API's 400 inline, then success", async () => {
    await page.getByRole("main").getByRole("link", { name: "New record" }).click();
    await expectFocusOnHeading("New record");
    await step("04-create-form");

    // Required fields are checked before anything is sent.
    const before = seen.requests.length;
    await page.getByRole("button", { name: "Create record" }).click();
    const summary = page.getByRole("alert").filter({ hasText: "Please check the form" });
    await summary.waitFor();
    await expect(field("fullName").getAttribute("aria-invalid")).resolves.toBe("true");
    await expect(page.locator("#field-fullName-error").textContent()).resolves.toContain(
      "Full name is required",
    );
    expect(seen.requests.slice(before).some((r) => r.url.includes("/api/"))).toBe(false);
    await step("05-create-required");

    // The API judges formats: its ValidationError lands next to the field, naming it, not its value.
    await fillRecord({ ...record, insuranceNumber: "!!" });
    await page.getByRole("button", { name: "Create record" }).click();
    await page.locator("#field-insuranceNumber-error").waitFor();
    await expect(page.locator("#field-insuranceNumber-error").textContent()).resolves.toContain(
      recordFields.insuranceNumber.label,
    );
    await expect(field("insuranceNumber").getAttribute("aria-invalid")).resolves.toBe("true");
    await expect(field("fullName").getAttribute("aria-invalid")).resolves.toBeNull();
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.classList.contains("error-summary")))
      .toBe(true);
    await step("06-create-api-error");

    await field("insuranceNumber").fill(record.insuranceNumber);
    await page.getByRole("button", { name: "Create record" }).click();
    await page.getByRole("status").filter({ hasText: "Record created" }).waitFor();
    await expectFocusOnHeading("Cardiology record");
    recordId = new URL(page.url()).pathname.split("/")[2] ?? "";
    expect(recordId).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of sensitiveFields) {
      if (name === "dateOfBirth") continue; // shown as a long date
      await expect(page.locator("main").textContent()).resolves.toContain(record[name].split("\n")[0]);
    }
    await step("07-record-detail");

    const creates = seen.requests.filter(
      (r) => r.method === "POST" && new URL(r.url).pathname === "/api/records",
    );
    expect(creates.length).toBe(2); // the rejected one and the created one
    for (const c of creates) expect(c.headers["idempotency-key"]).toMatch(/^[A-Za-z0-9_.:-]{8,128}$/);
  });

  it("finds the record in the list by its name, searches it, and opens its access history", async () => {
    await page.getByRole("link", { name: "All records" }).click();
    await expectFocusOnHeading("Your records");
    const card = page.locator(`a[href="/records/${recordId}"]`);
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain("Cardiology");
    // The list shows who the record is about, and nothing else sensitive.
    const shown = findCanaries((await page.locator("main").textContent()) ?? "", canaries);
    expect(shown).toEqual([record.fullName]);
    await step("08-records-list");

    // The search looks in the insurance number too, ignoring case; a miss shows no record.
    const box = page.getByRole("searchbox", { name: /Search by name/ });
    await box.fill(record.insuranceNumber.toLowerCase());
    await page.getByRole("status").filter({ hasText: "1 record matches" }).waitFor();
    await box.fill("no such patient");
    await page.getByRole("status").filter({ hasText: "0 records match" }).waitFor();
    await box.fill("");
    await card.waitFor();

    await card.click();
    await expectFocusOnHeading("Cardiology record");
    await page.getByRole("link", { name: "Access history" }).first().click();
    await expectFocusOnHeading("Access history");
    const rows = page.locator("table.history tbody tr");
    await rows.first().waitFor();
    // One entry per visit: created once, opened twice (after create, from the list), listed once with
    // its name and once for the search. More would mean the app fetches a record more often than it
    // is shown.
    const actions = await page.locator("table.history tbody .action").allTextContents();
    expect(actions).toEqual(["Opened", "Listed", "Listed", "Opened", "Created"]);
    await step("09-access-history");
  });

  it("edits the record with If-Match from its version", async () => {
    await page.getByRole("link", { name: "Back to the record" }).click();
    await page.getByRole("link", { name: "Edit", exact: true }).click();
    await expectFocusOnHeading("Edit record");
    await expect(field("diagnosis").inputValue()).resolves.toBe(record.diagnosis);
    await field("diagnosis").fill(revisedDiagnosis);
    await field("phone").fill("");
    await step("10-edit-form");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Changes saved" }).waitFor();
    await expectFocusOnHeading("Cardiology record");
    await expect(page.locator("main").textContent()).resolves.toContain(revisedDiagnosis);
    await expect(page.locator("main").textContent()).resolves.toContain("Version 2");
    const update = seen.requests.find(
      (r) => r.method === "POST" && r.url.endsWith(`/api/records/${recordId}`),
    );
    expect(update?.headers["if-match"]).toBe('"1"');
    expect(update?.body).not.toContain("phone=");
  });

  it("deletes the record after confirmation", async () => {
    await page.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this record?" });
    await dialog.waitFor();
    // The safe choice has focus first.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await step("11-delete-dialog");
    await dialog.getByRole("button", { name: "Delete record" }).click();
    await page.getByRole("status").filter({ hasText: "Record deleted" }).waitFor();
    await page.getByRole("heading", { name: "No records yet" }).waitFor();
    const del = seen.requests.find((r) => r.method === "DELETE");
    expect(del?.headers["if-match"]).toBe('"2"');
    await step("12-records-after-delete");
  });

  it("signs out, and signs in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await sample(page, h.context, seen);
    // Signed out: Amplify's tokens for the user are gone from storage.
    expect(seen.storage.at(-2)).not.toContain("accessToken");
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "No records yet" }).waitFor();
    await sample(page, h.context, seen);
  });

  it("goes back to sign-in when the API answers 401", async () => {
    // A token with a broken signature: Amplify still sends it, the API must refuse it.
    const tampered = await page.evaluate(() => {
      const key = Object.keys(localStorage).find((k) => k.endsWith(".accessToken"));
      const token = key ? localStorage.getItem(key) : null;
      if (!key || !token) return false;
      const [head, body, sig = ""] = token.split(".");
      const i = Math.floor(sig.length / 2);
      const flipped = `${sig.slice(0, i)}${sig[i] === "A" ? "B" : "A"}${sig.slice(i + 1)}`;
      localStorage.setItem(key, `${head}.${body}.${flipped}`);
      return true;
    });
    expect(tampered).toBe(true);
    const before = seen.requests.length;
    await page.getByRole("link", { name: "Records", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "Your session has ended" }).waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    expect(seen.requests.slice(before).some((r) => new URL(r.url).pathname === "/api/records")).toBe(true);
    await sample(page, h.context, seen);
    expect(seen.storage.at(-2)).not.toContain("accessToken");
    await step("13-session-ended");
  });

  it("sent sensitive fields only as url-encoded POST bodies to /api", () => {
    const withValues = seen.requests.filter((r) => findCanaries(r.body, canaries).length > 0);
    expect(withValues.length).toBe(3); // rejected create, create, update
    for (const r of withValues) {
      expect(new URL(r.url).pathname.startsWith("/api/records")).toBe(true);
      expect(r.method).toBe("POST");
      expect(r.contentType.startsWith("application/x-www-form-urlencoded")).toBe(true);
    }
    const apiBodies = seen.requests.filter((r) => new URL(r.url).pathname.startsWith("/api/") && r.body);
    for (const r of apiBodies) expect(r.contentType).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it("leaked no sensitive value to URLs, storage, cookies or the console", () => {
    expect(seen.urls.length).toBeGreaterThan(5);
    for (const r of seen.requests) expect(findCanaries(r.url, canaries), r.url).toEqual([]);
    for (const u of seen.urls) expect(findCanaries(u, canaries), u).toEqual([]);
    for (const s of seen.storage) expect(findCanaries(s, canaries)).toEqual([]);
    for (const c of seen.console) expect(findCanaries(c, canaries), c).toEqual([]);
    // Requests to Cognito carry the user's own sign-in, never record data.
    for (const r of seen.requests.filter((r) => !r.url.startsWith(h.baseUrl))) {
      expect(findCanaries(r.body, canaries)).toEqual([]);
    }
  });

  it("ran without page errors or CSP violations", () => {
    expect(seen.pageErrors).toEqual([]);
    expect(seen.console.filter((c) => /Content Security Policy|Refused to/i.test(c))).toEqual([]);
    // Chromium logs every non-2xx answer; the expected ones are the API's 400 and 401 above.
    const errors = seen.console.filter(
      (c) => c.startsWith("error") && !/status of 40[01] \((Bad Request|Unauthorized)\)/.test(c),
    );
    expect(errors).toEqual([]);
  });

  it("no canary crossed CloudFront or the gateway in clear: answers at both hops, requests past CloudFront", () => {
    // The recorders saw the browser's traffic: the forms reach CloudFront in clear, by design.
    expect(h.capture.sentByViewer(record.fullName)).toBe(true);
    expect(h.capture.leaks(Object.fromEntries(canaries.map((c, i) => [`canary${i}`, c])))).toEqual([]);
  });
});
