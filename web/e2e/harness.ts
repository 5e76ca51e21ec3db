import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ephemeralPorts } from "../../packages/local/src/stack/config.ts";
import { type LocalStack, startLocalStack } from "../../packages/local/src/stack/start.ts";
import { ensureWebBuilt } from "../scripts/build.mjs";

/**
 * The few page globals the tests read inside `page.evaluate` (which runs in the browser). The node
 * tsconfig has no DOM lib, so files declare `document` with this type.
 */
export interface PageDocument {
  readonly activeElement: {
    readonly tagName: string;
    readonly textContent: string | null;
    readonly classList: { contains(name: string): boolean };
  } | null;
  readonly fonts: { readonly ready: Promise<unknown> };
}
declare const document: PageDocument;

export const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = join(webDir, "..");
export const screenshotDir = join(repoRoot, "artifacts", "screenshots");

/** Debian's Chromium; Playwright's own browser downloads are not available here. */
export const chromiumPath = process.env.VEIL_CHROMIUM ?? "/usr/bin/chromium";

const chromiumFlags = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const viewports = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;

export interface Harness {
  readonly stack: LocalStack;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly baseUrl: string;
  stop(): Promise<void>;
}

/**
 * Builds the web app if stale, starts a whole local stack on ephemeral ports serving it, and opens
 * Chromium with a fresh profile. `stop()` closes the browser, stops the stack and removes temp folders.
 */
export async function startHarness(): Promise<Harness> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: install it (apt-get install chromium)`);
  }
  const build = await ensureWebBuilt({ quiet: true });
  const stateDir = mkdtempSync(join(tmpdir(), "veil-web-e2e-"));
  const profileDir = mkdtempSync(join(tmpdir(), "veil-web-chromium-"));
  const cleanup: Array<() => Promise<void>> = [
    async () => rmSync(stateDir, { recursive: true, force: true }),
    async () => rmSync(profileDir, { recursive: true, force: true }),
  ];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    const stack = await startLocalStack({ stateDir, ports: ephemeralPorts, webRoot: build.outDir });
    cleanup.push(() => stack.stop());
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: chromiumPath,
      headless: true,
      args: chromiumFlags,
      viewport: viewports.desktop,
      locale: "en-GB",
      timezoneId: "Europe/Zurich",
      reducedMotion: "reduce",
    });
    cleanup.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(screenshotDir, { recursive: true });
    return { stack, context, page, baseUrl: stack.info.edgeUrl, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Full-page screenshots of the current page at desktop and phone width. */
export async function screenshots(page: Page, name: string): Promise<void> {
  for (const [label, size] of Object.entries(viewports)) {
    await page.setViewportSize(size);
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: join(screenshotDir, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(viewports.desktop);
}

/** Signs up on the open sign-in page (the local stack confirms at once) and waits for the empty list. */
export async function signUp(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.getByRole("tab", { name: "Create Account" }).click();
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByLabel("Confirm Password").fill(user.password);
  await page.getByRole("button", { name: "Create Account" }).click();
  await page.getByRole("heading", { name: "No records yet" }).waitFor();
}
