import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { startTcpProxy, type TcpProxy } from "../../packages/local/src/proof/tcp-proxy.ts";
import { canaryNeedles, containsAny } from "../../packages/local/src/scan/needles.ts";
import { ephemeralPorts } from "../../packages/local/src/stack/config.ts";
import {
  type LocalStack,
  type StartStackOptions,
  startLocalStack,
} from "../../packages/local/src/stack/start.ts";
import type { ControlName } from "../../packages/local/src/stack/test-switches.ts";
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

/**
 * What crossed the two hops an operator could tap: viewer ↔ CloudFront (every connection of the
 * browser to the local CloudFront) and CloudFront ↔ gateway, byte for byte, both ways.
 */
export interface Capture {
  readonly viewer: TcpProxy;
  readonly origin: TcpProxy;
  /**
   * Every `label in place` where any form of a canary (plain, base64, base64url, percent-encoded,
   * JSON-escaped, UTF-16, hex) crossed in clear: answers at CloudFront, requests and answers past it.
   * The viewer's requests are left out: they reach CloudFront in clear by design (it encrypts the
   * fields). Empty when nothing leaked.
   */
  leaks(canaries: Readonly<Record<string, string>>): string[];
  /** True when the value reached CloudFront in a viewer request: shows the capture sees the browser. */
  sentByViewer(value: string): boolean;
}

export interface Harness {
  readonly stack: LocalStack;
  readonly context: BrowserContext;
  readonly page: Page;
  readonly baseUrl: string;
  readonly stateDir: string;
  readonly capture: Capture;
  stop(): Promise<void>;
}

/** Options of `startHarness`. */
export interface HarnessOptions {
  /** A PostgreSQL server instead of the embedded PGlite (whole-database canary scans). */
  readonly databaseUrl?: string;
  /** An S3-compatible server that keeps versions (a test Swift) instead of the embedded s3rver. */
  readonly s3?: StartStackOptions["s3"];
  readonly region?: string;
  /** Test only: switch one security control off (to show a check fails without it). */
  readonly disableControl?: ControlName;
}

/**
 * Builds the web app if stale, starts a whole local stack on ephemeral ports serving it with recording
 * proxies at both hops, and opens Chromium with a fresh profile whose connections to CloudFront pass
 * the viewer-side recorder (the page's origin stays CloudFront's). `stop()` closes the browser, stops
 * the stack and the recorders and removes temp folders.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
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
    let origin: TcpProxy | undefined;
    const stack = await startLocalStack({
      stateDir,
      ports: ephemeralPorts,
      webRoot: build.outDir,
      ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
      ...(options.s3 ? { s3: options.s3 } : {}),
      ...(options.region ? { region: options.region } : {}),
      test: {
        ...(options.disableControl ? { disableControl: options.disableControl } : {}),
        originPort: async (gatewayPort) => {
          origin = await startTcpProxy({ targetPort: gatewayPort, record: true });
          const tap = origin;
          cleanup.push(() => tap.stop());
          return origin.port;
        },
      },
    });
    cleanup.push(() => stack.stop());
    if (!origin) throw new Error("the stack did not ask for an origin port");
    const edgePort = Number(new URL(stack.info.edgeUrl).port);
    const viewer = await startTcpProxy({ targetPort: edgePort, record: true });
    cleanup.push(() => viewer.stop());
    const capture = captureOf(viewer, origin);
    const context = await chromium.launchPersistentContext(profileDir, {
      executablePath: chromiumPath,
      headless: true,
      // Connections to CloudFront go to the recorder, which forwards them; URLs, Host headers and the
      // page's origin stay CloudFront's (CORS, CSP and the proofs' `htu` are unchanged).
      args: [
        ...chromiumFlags,
        `--host-resolver-rules=MAP localhost:${edgePort} 127.0.0.1:${viewer.port}, MAP 127.0.0.1:${edgePort} 127.0.0.1:${viewer.port}`,
      ],
      viewport: viewports.desktop,
      locale: "en-GB",
      timezoneId: "Europe/Zurich",
      reducedMotion: "reduce",
    });
    cleanup.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    mkdirSync(screenshotDir, { recursive: true });
    return { stack, context, page, baseUrl: stack.info.edgeUrl, stateDir, capture, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function captureOf(viewer: TcpProxy, origin: TcpProxy): Capture {
  return {
    viewer,
    origin,
    leaks(canaries) {
      const places = {
        "answers at CloudFront": viewer.recorded("answer"),
        "requests past CloudFront": origin.recorded("request"),
        "answers past CloudFront": origin.recorded("answer"),
      };
      const found: string[] = [];
      for (const [label, value] of Object.entries(canaries)) {
        const needles = canaryNeedles(value);
        for (const [place, bytes] of Object.entries(places))
          if (containsAny(bytes, needles)) found.push(`${label} in ${place}`);
      }
      return found;
    },
    sentByViewer: (value) => containsAny(viewer.recorded("request"), canaryNeedles(value)),
  };
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
