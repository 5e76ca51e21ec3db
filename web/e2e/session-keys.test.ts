import { randomBytes } from "node:crypto";
import { proofOfPossession, sealedAnswer } from "@veil/core";
import { calculateJwkThumbprint, decodeProtectedHeader } from "jose";
import type { Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, signUp, startHarness } from "./harness.ts";

const tag = randomBytes(5).toString("hex");
const user = { email: `keys-${tag}@example.com`, password: `Pw-${tag}-Aa1!` };

let h: Harness;
let page: Page;
/** The thumbprint of the proof key of every API request, in order. */
const proofKeys: string[] = [];
const answers: { status: number; contentType: string; sealedType: string; length: number }[] = [];

// What the page holds in its key store: per user, whether each private key is extractable, and
// whether exporting it fails (run in the page; the node tsconfig has no DOM types, hence a string).
const readKeyStore = `new Promise((resolve, reject) => {
  const open = indexedDB.open("veil-session-keys");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("keys")) return resolve([]);
    const all = db.transaction("keys").objectStore("keys").getAll();
    all.onerror = () => reject(all.error);
    all.onsuccess = async () => {
      const out = [];
      for (const k of all.result) {
        const privateKeys = [k.proof.privateKey, k.seal.privateKey];
        const exported = await Promise.all(
          privateKeys.map((key) => crypto.subtle.exportKey("jwk", key).then(() => true, () => false)),
        );
        out.push({ session: k.session, extractable: privateKeys.map((key) => key.extractable), exported });
      }
      db.close();
      resolve(out);
    };
  };
})`;

const dropKeyStore = `new Promise((resolve, reject) => {
  const open = indexedDB.open("veil-session-keys");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const tx = open.result.transaction("keys", "readwrite");
    tx.objectStore("keys").clear();
    tx.oncomplete = () => resolve(true);
    tx.onerror = () => reject(tx.error);
  };
})`;

async function lastProofKey(): Promise<string> {
  await expect.poll(() => proofKeys.length).toBeGreaterThan(0);
  return proofKeys.at(-1) ?? "";
}

async function signIn() {
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "No records yet" }).waitFor();
}

describe("session keys in Chromium against the local stack", () => {
  beforeAll(async () => {
    h = await startHarness();
    page = h.page;
    page.on("request", async (r) => {
      const proof = r.headers()[proofOfPossession.header];
      if (!new URL(r.url()).pathname.startsWith("/api/") || !proof) return;
      const { jwk } = decodeProtectedHeader(proof);
      proofKeys.push(jwk ? await calculateJwkThumbprint(jwk) : "");
    });
    page.on("response", async (res: Response) => {
      if (!new URL(res.url()).pathname.startsWith("/api/")) return;
      const headers = res.headers();
      const length = (await res.body().catch(() => Buffer.alloc(0))).byteLength;
      answers.push({
        status: res.status(),
        contentType: headers["content-type"] ?? "",
        sealedType: headers[sealedAnswer.plaintextTypeHeader] ?? "",
        length,
      });
    });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it("makes non-extractable key pairs at sign-up, in IndexedDB, nothing in localStorage", async () => {
    await page.goto(h.baseUrl);
    await signUp(page, user);
    const stored = (await page.evaluate(readKeyStore)) as {
      session: string;
      extractable: boolean[];
      exported: boolean[];
    }[];
    expect(stored).toHaveLength(1);
    expect(stored[0]?.extractable).toEqual([false, false]);
    expect(stored[0]?.exported).toEqual([false, false]);
    const local = await page.evaluate("JSON.stringify(Object.entries(localStorage))");
    expect(String(local)).not.toMatch(/"d"|privateKey|veil-session-keys/);
  });

  it("signs every API request with the same proof key, also after a reload", async () => {
    const before = await lastProofKey();
    expect(new Set(proofKeys)).toEqual(new Set([before]));
    await page.reload();
    await page.getByRole("heading", { name: "No records yet" }).waitFor();
    expect(await lastProofKey()).toBe(before);
    expect(new Set(proofKeys)).toEqual(new Set([before]));
  });

  it("gets every successful answer with a body sealed", () => {
    const withBody = answers.filter((a) => a.status < 300 && a.length > 0);
    expect(withBody.length).toBeGreaterThan(0);
    for (const a of withBody) {
      expect(a.contentType).toMatch(/^application\/vnd\.veil\.sealed/);
      expect(a.sealedType).not.toBe("");
    }
  });

  it("deletes the keys at sign-out and makes new ones at the next sign-in", async () => {
    const before = await lastProofKey();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await expect.poll(() => page.evaluate(readKeyStore)).toEqual([]);
    await signIn();
    const after = await lastProofKey();
    expect(after).not.toBe(before);
  });

  it("asks to sign in again, saying why, when the stored keys are gone after a reload", async () => {
    await page.evaluate(dropKeyStore);
    await page.reload();
    await page.getByRole("alert").filter({ hasText: "no longer holds the keys of your session" }).waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await signIn();
  });

  it("reached the API through both recorders (this file plants no record values)", () => {
    expect(h.capture.viewer.recorded("request").includes("GET /api/records")).toBe(true);
    expect(h.capture.origin.recorded("request").includes("/api/records")).toBe(true);
  });
});
