import { randomBytes } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, signUp, startHarness } from "./harness.ts";

const tag = randomBytes(5).toString("hex");
const user = { email: `reload-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;
const cognitoErrors: string[] = [];

// A returning user: the page loads already signed in, so the sign-in form is first shown after a
// sign-out, and must still use the flow from /config.json.
describe("sign-in after a reload against the local stack", () => {
  beforeAll(async () => {
    h = await startHarness();
    page = h.page;
    page.on("response", async (res) => {
      if (res.url().startsWith(h.stack.info.edgeUrl) || res.ok()) return;
      cognitoErrors.push(`${res.status()} ${await res.text().catch(() => "")}`);
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("signs up and lands on the records list", async () => {
    await page.goto(h.baseUrl);
    await signUp(page, user);
  });

  it("reloads still signed in, signs out, and signs in again with the same password", async () => {
    await page.reload();
    await page.getByRole("heading", { name: "No records yet" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    // Either the records list or the sign-in form's error, whichever comes first.
    const signedIn = page.getByRole("heading", { name: "No records yet" });
    const refused = page.getByRole("alert").filter({ hasText: /\S/ });
    await signedIn.or(refused).first().waitFor();
    expect(await refused.allTextContents()).toEqual([]);
    expect(cognitoErrors).toEqual([]);
    await expect(signedIn.isVisible()).resolves.toBe(true);
  });

  it("reached the API through both recorders (this file plants no record values)", () => {
    expect(h.capture.viewer.recorded("request").includes("GET /api/records")).toBe(true);
    expect(h.capture.origin.recorded("request").includes("/api/records")).toBe(true);
  });
});
