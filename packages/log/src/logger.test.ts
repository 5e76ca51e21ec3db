import { generateKeyPairSync } from "node:crypto";
import { headers } from "@veil/core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "./logger.ts";

/** Captures everything the logger writes to stdout and stderr. */
function captureOutput() {
  const chunks: string[] = [];
  const grab = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, "write").mockImplementation(grab);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(grab);
  return {
    text: () => chunks.join(""),
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

const pem = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;
const pemBodyLine = pem.split("\n")[5] as string;

/** Values that must never reach the log, each with the place it is planted. */
const canary = {
  fullName: "Zorblax Quintavius",
  dateOfBirth: "1961-07-13",
  diagnosis: "Quintavian syndrome",
  notes: "Zorblax notes about the patient",
  email: "zorblax.q@example.org",
  phone: "+41 79 555 12 34",
  insurance: "CH-756.9999.8888.77",
  bareInsurance: "756.4321.8765.43",
  jwt: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ6b3JibGF4In0.c2lnbmF0dXJlWm9yYmxheA",
  apiKey: "ApiKeyZorblax0123456789",
  cookie: "session-zorblax-cookie",
  awsSecret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZORBLAXKE1",
  awsKeyId: "AKIAZORBLAX123456789",
  password: "hunter2-zorblax",
  pemLine: pemBodyLine,
  bufferText: "buffer-zorblax-plaintext",
};

describe("createLogger", () => {
  let cap: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    cap = captureOutput();
  });
  afterEach(() => cap.restore());

  it("leaves no canary in any log line, wherever it was planted", () => {
    const logger = createLogger({
      serviceName: "records",
      level: "DEBUG",
      persistentKeys: { patient: { email: canary.email } },
    });
    logger.appendKeys({ requestId: "req-1", contact: canary.phone });

    const cause = new Error(`lookup failed for ${canary.email}`, {
      cause: new Error(`Key (owner_id, email)=(u1, ${canary.email}) already exists`),
    });
    const error = Object.assign(new Error(`could not save ${canary.insurance}`, { cause }), {
      fullName: canary.fullName,
      detail: `phone ${canary.phone}`,
    });
    const body = new URLSearchParams({
      fullName: canary.fullName,
      dateOfBirth: canary.dateOfBirth,
      category: "cardiology",
    }).toString();
    const cyclic: Record<string, unknown> = { name: "loop", notes: canary.notes };
    cyclic.self = cyclic;
    let deep: Record<string, unknown> = { email: canary.email };
    for (let i = 0; i < 5000; i++) deep = { next: deep, free: `reach me at ${canary.email}` };

    logger.info(`created record for ${canary.email} (${canary.phone})`, {
      record: { fullName: canary.fullName, date_of_birth: canary.dateOfBirth, category: "cardiology" },
      list: [{ Diagnosis: canary.diagnosis }, [{ "insurance-number": canary.insurance }]],
      url: `/api/records?email=${encodeURIComponent(canary.email)}&page=2`,
      form: body,
      json: JSON.stringify({ notes: canary.notes, nested: { phone: canary.phone } }),
      doubleJson: JSON.stringify(JSON.stringify({ fullName: canary.fullName })),
      anyKey: [canary.email, canary.phone, canary.insurance, canary.bareInsurance],
      headers: {
        Authorization: `Bearer ${canary.jwt}`,
        [headers.identity]: `Bearer ${canary.jwt}`,
        [headers.apiKey]: canary.apiKey,
        cookie: `sid=${canary.cookie}`,
      },
      rawHeaders: ["Authorization", `Bearer ${canary.jwt}`, "Cookie", `sid=${canary.cookie}`],
      token: canary.jwt,
      blob: `key follows ${pem}`,
      env: `AWS_ACCESS_KEY_ID=${canary.awsKeyId} AWS_SECRET_ACCESS_KEY=${canary.awsSecret}`,
      loose: `creds ${canary.awsKeyId} ${canary.awsSecret}`,
      text: `login password: ${canary.password}`,
      buffer: Buffer.from(canary.bufferText),
      bytes: new TextEncoder().encode(canary.bufferText),
      map: new Map([["email", canary.email]]),
      params: new URLSearchParams({ phone: canary.phone }),
      big: 10n ** 30n,
      cyclic,
      deep,
      [canary.email]: "an e-mail used as a key",
    });
    logger.error("request failed", error);
    logger.warn({
      message: `retry with fullName=${canary.fullName.replace(" ", "+")}`,
      fullName: canary.fullName,
    });
    logger.debug("aggregate", { errors: new AggregateError([new Error(canary.email)], "many") });
    const child = logger.createChild({ persistentKeys: { handler: "child" } });
    child.info("child line", { email: canary.email });

    const out = cap.text();
    expect(cap.lines()).toHaveLength(5);
    for (const [where, value] of Object.entries(canary)) {
      expect(out, `canary ${where} leaked`).not.toContain(value);
    }
    expect(out).not.toContain("zorblax");
    expect(out).not.toContain("Zorblax");
    expect(out).not.toContain("PRIVATE KEY");
    // Redaction must not blank out what operators need.
    expect(out).toContain("cardiology");
    expect(out).toContain("req-1");
    expect(out).toContain("[binary 24 bytes]");
    const [info, err] = cap.lines();
    expect(info?.service).toBe("records");
    expect(info?.message).toBe("created record for [REDACTED] ([REDACTED])");
    const logged = err?.error as { name: string; stack: string };
    expect(logged.name).toBe("Error");
    expect(logged.stack).toContain("logger.test.ts");
  });

  it("redacts the Logger's own error formatting of causes and cycles without throwing", () => {
    const logger = createLogger({ serviceName: "t" });
    const e = new Error(`a ${canary.email}`);
    (e as Error & { cause: unknown }).cause = e;
    expect(() => logger.error("cyclic cause", e)).not.toThrow();
    expect(cap.text()).not.toContain(canary.email);
    expect(cap.text()).toContain("[circular]");
  });
});
