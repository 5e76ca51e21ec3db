/**
 * Bad input on every endpoint, through the local CloudFront and straight at the gateway with a correct
 * signature: malformed encodings, invalid UTF-8, huge and too many fields, wrong content types, JSON,
 * injection strings, odd ids, bad tokens, tampered or foreign FLE ciphertext. Always a clear 4xx (or,
 * for odd-but-valid text, a stored record that reads back byte for byte), never a 5xx, nothing written
 * by a rejected request, and no canary of any attempt in any log line.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { headers as headerNames, imageRoutes, recordRoutes } from "@veil/core";
import { encryptFleField } from "@veil/crypto";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import { badTokens, createRecord } from "./checks.ts";
import {
  canaryFields,
  formType,
  makeCanaries,
  type ProofStack,
  recordForm,
  startProofStack,
} from "./harness.ts";
import { recordResult } from "./results.ts";

let pgServer: TestPostgres;
let p: ProofStack;
let recordId = "";
let tried = 0;
const fiveHundreds: string[] = [];
/** Every canary planted in a bad input: none may show up in a log line or (when rejected) a row. */
const planted: Record<string, string> = {};
let plantCount = 0;

function plant(): string {
  const value = `Canary${randomBytes(6).toString("hex")}`;
  planted[`bad-input-${plantCount++}`] = value;
  return value;
}

/** Sends one bad input and returns its answer; every 5xx is remembered with its label. */
async function attempt(
  label: string,
  send: () => Promise<Response>,
): Promise<{ status: number; text: string; res: Response }> {
  tried += 1;
  const res = await send();
  const text = await res.text();
  if (res.status >= 500) fiveHundreds.push(`${label}: ${res.status}`);
  return { status: res.status, text, res };
}

/** The answer names a request id somewhere (body, or the gateway's / CloudFront's header). */
function hasRequestId(r: { text: string; res: Response }): boolean {
  return (
    /"requestId":"[^"]+"/.test(r.text) ||
    Boolean(r.res.headers.get("x-amzn-requestid")) ||
    Boolean(r.res.headers.get(headerNames.requestId))
  );
}

async function rowCounts(): Promise<string> {
  const c = new pg.Client({ connectionString: pgServer.connectionString });
  await c.connect();
  try {
    const r = await c.query(
      "SELECT (SELECT count(*) FROM records) AS r, (SELECT count(*) FROM audit_events) AS a, (SELECT count(*) FROM idempotency_keys) AS i",
    );
    return JSON.stringify(r.rows[0]);
  } finally {
    await c.end();
  }
}

const post = (
  body: NonNullable<RequestInit["body"]>,
  contentType: string | null = formType,
  token = p.alice.token,
) =>
  p.api("/api/records", {
    method: "POST",
    token,
    ...(contentType ? { headers: { "content-type": contentType } } : {}),
    body,
  });

beforeAll(async () => {
  pgServer = await startTestPostgres();
  p = await startProofStack({ databaseUrl: pgServer.connectionString });
  const created = await createRecord(p, p.alice.token, canaryFields(makeCanaries()));
  recordId = created.id ?? "";
});

afterAll(async () => {
  recordResult({ section: "badInput", counts: { tried, fiveHundreds: fiveHundreds.length } });
  await p?.stop();
  await pgServer?.stop();
});

describe("rejected inputs write nothing and answer a clear 4xx with a request id", () => {
  it("malformed url-encoding, invalid UTF-8, JSON as a form, wrong content types, huge and too many fields", async () => {
    const before = await rowCounts();
    const valid = `dateOfBirth=1990-01-01&fullName=${plant()}`;
    // Canaries go only into sensitive-field values: what FLE must protect and logs must never show.
    const cases: Array<[string, NonNullable<RequestInit["body"]>, string | null]> = [
      ["bad percent in a value", `fullName=%E0%A4%A&dateOfBirth=1990-01-01&notes=${plant()}`, formType],
      ["lone percent", `category=general&fullName=%&notes=${plant()}`, formType],
      ["bad percent in a name", `%zz=1&${valid}`, formType],
      [
        "invalid UTF-8 value",
        Buffer.concat([Buffer.from(`${valid}&notes=`), Buffer.from([0xc3, 0x28, 0xff])]),
        formType,
      ],
      [
        "invalid UTF-8 name",
        Buffer.concat([Buffer.from([0xff, 0xfe, 0x3d, 0x31, 0x26]), Buffer.from(valid)]),
        formType,
      ],
      [
        "JSON sent as a form",
        // A canary here would sit in a field *name*, which no control treats as sensitive.
        JSON.stringify({ category: "general", fullName: "Json Name", dateOfBirth: "1990-01-01" }),
        formType,
      ],
      ["JSON", JSON.stringify({ category: "general", fullName: plant() }), "application/json"],
      ["text/plain", `category=general&${valid}`, "text/plain"],
      [
        "multipart",
        `--x\r\ncontent-disposition: form-data; name="fullName"\r\n\r\n${plant()}\r\n--x--`,
        "multipart/form-data; boundary=x",
      ],
      ["no content type", `category=general&${valid}`, null],
      ["xml", `<record><fullName>${plant()}</fullName></record>`, "application/xml"],
      ["duplicate field", `category=general&${valid}&fullName=${plant()}`, formType],
      ["unknown field", `category=general&${valid}&isAdmin=true`, formType],
      ["server-set field", `category=general&${valid}&id=00000000-0000-0000-0000-000000000000`, formType],
      ["missing required", `category=general&notes=${plant()}`, formType],
      ["empty body", "", formType],
      ["only ampersands", "&&&&", formType],
      ["empty name", `=x&category=general&${valid}`, formType],
      [
        "field too long (> 16 KB at the edge)",
        `category=general&${valid}&notes=${"n".repeat(17 * 1024)}`,
        formType,
      ],
      ["field too long (> its limit)", `category=general&${valid}&diagnosis=${"d".repeat(2001)}`, formType],
      [
        "too many FLE fields",
        `category=general&${Array.from({ length: 11 }, () => `notes=${plant()}`).join("&")}`,
        formType,
      ],
      [
        "too many fields",
        `category=general&${valid}&${Array.from({ length: 300 }, (_, i) => `f${i}=1`).join("&")}`,
        formType,
      ],
      ["body over 1 MB", `category=general&${valid}&x=${"a".repeat(1024 * 1024 + 10)}`, formType],
      ["invalid date", `category=general&fullName=${plant()}&dateOfBirth=1990-02-30`, formType],
      ["future date", `category=general&fullName=${plant()}&dateOfBirth=2999-01-01`, formType],
      ["bad e-mail", `category=general&${valid}&email=${plant()}@`, formType],
      ["bad category", `category=../../etc&${valid}`, formType],
      ["control characters", `category=general&${valid}&notes=a%00b%1Bc${plant()}`, formType],
    ];
    for (const [label, body, type] of cases) {
      const r = await attempt(label, () => post(body, type));
      expect(r.status, label).toBeGreaterThanOrEqual(400);
      expect(r.status, label).toBeLessThan(500);
      expect(hasRequestId(r), `${label}: no request id`).toBe(true);
    }
    expect(await rowCounts()).toBe(before);
  });

  it("random bytes and random strings as a form body never give a 5xx or a record (fast-check)", async () => {
    const before = await rowCounts();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
          fc.string({ maxLength: 200, unit: "binary" }),
          fc
            .dictionary(
              fc.constantFrom("category", "fullName", "dateOfBirth", "notes", "x", "%", "email"),
              fc.string({ unit: "binary", maxLength: 40 }),
            )
            .map((d) =>
              Object.entries(d)
                .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
                .join("&"),
            ),
        ),
        async (body) => {
          const r = await attempt("fast-check body", () =>
            post(typeof body === "string" ? body : new Uint8Array(body)),
          );
          expect(r.status).toBeLessThan(500);
          expect(r.status).not.toBe(201);
        },
      ),
      { numRuns: 120 },
    );
    expect(await rowCounts()).toBe(before);
  });

  it("odd record ids, query strings and headers on every route", async () => {
    const before = await rowCounts();
    const ids = [
      "..%2F..%2Fetc%2Fpasswd",
      "%2e%2e",
      "'%20OR%20'1'%3D'1",
      "1%3BDROP%20TABLE%20records",
      "x".repeat(5000),
      "00000000-0000-0000-0000-000000000000",
      "%00",
      "%F0%9F%92%A9",
      "%C3%28",
      "null",
      "-1",
    ];
    for (const id of ids) {
      for (const route of recordRoutes.filter((r) => r.resource.includes("{id}"))) {
        const path = route.resource.replace("{id}", id);
        const init =
          route.method === "GET" || route.method === "DELETE"
            ? { method: route.method }
            : {
                method: route.method,
                headers: { "content-type": formType, "if-match": '"1"' },
                body: recordForm({ fullName: plant(), dateOfBirth: "1990-01-01" }),
              };
        const r = await attempt(`${route.method} ${id.slice(0, 30)}`, () =>
          p.api(path, { ...init, token: p.alice.token }),
        );
        expect(
          [400, 403, 404, 405, 409, 412, 428],
          `${route.method} ${path.slice(0, 60)}: ${r.status}`,
        ).toContain(r.status);
      }
    }
    for (const q of [
      "limit=abc",
      "limit=-1",
      "limit=1e9",
      "limit=0",
      "cursor=%FF%FE",
      "cursor=' OR 1=1",
      "limit=1&limit=2",
      `cursor=${"A".repeat(4000)}`,
      "view=all",
      "view=",
      "view=metadata&view=search",
    ]) {
      // Refused before anything is read: a list that answered would also have written its audit batch.
      const r = await attempt(`list ?${q}`, () => p.api(`/api/records?${q}`, { token: p.alice.token }));
      expect(r.status, q).toBe(400);
    }
    for (const ifMatch of ['"abc"', "W/", '"-1"', '"99999999999"', "*", "x".repeat(3000)]) {
      const r = await attempt(`If-Match ${ifMatch.slice(0, 12)}`, () =>
        p.api(`/api/records/${recordId}`, {
          method: "POST",
          token: p.alice.token,
          headers: { "content-type": formType, "if-match": ifMatch },
          body: recordForm({ fullName: plant(), dateOfBirth: "1990-01-01" }),
        }),
      );
      expect([400, 412, 428], ifMatch.slice(0, 12)).toContain(r.status);
    }
    for (const key of ["short", "has space in it", "x".repeat(200), "../../etc", "clé-12345678"]) {
      const r = await attempt(`Idempotency-Key ${key.slice(0, 12)}`, () =>
        p.api("/api/records", {
          method: "POST",
          token: p.alice.token,
          headers: { "content-type": formType, "idempotency-key": key },
          body: recordForm({ fullName: plant(), dateOfBirth: "1990-01-01" }),
        }),
      );
      expect(r.status, key).toBe(400);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80, unit: "binary" }), async (id) => {
        const r = await attempt("fast-check id", () =>
          p.api(`/api/records/${encodeURIComponent(id)}`, { token: p.alice.token }),
        );
        expect([400, 403, 404]).toContain(r.status);
      }),
      { numRuns: 80 },
    );
    expect(await rowCounts()).toBe(before);
  });

  it("other spellings of a real record's id on every record and image route: 404, and the record is unchanged", async () => {
    const before = await rowCounts();
    const original = await (await p.api(`/api/records/${recordId}`, { token: p.alice.token })).json();
    const spellings = [
      recordId.toUpperCase(),
      recordId.replace(/[a-f]/, (c) => c.toUpperCase()),
      `{${recordId}}`,
      `urn:uuid:${recordId}`,
      recordId.replaceAll("-", ""),
      `${recordId}%20`,
    ];
    const routes = [...recordRoutes, ...imageRoutes].filter((r) => r.resource.includes("{id}"));
    for (const id of spellings) {
      for (const route of routes) {
        const path = route.resource
          .replace("{id}", id)
          .replace("{imageId}", crypto.randomUUID().toUpperCase());
        const write = route.method === "POST" || route.method === "PUT";
        const body = route.resource.endsWith("/images")
          ? "contentType=image%2Fpng&size=10"
          : recordForm({ fullName: plant(), dateOfBirth: "1990-01-01" });
        const r = await attempt(`${route.method} ${route.resource} ${id}`, () =>
          p.api(path, {
            method: route.method,
            token: p.alice.token,
            headers: { "content-type": formType, "if-match": '"1"' },
            ...(write ? { body } : {}),
          }),
        );
        // A PUT body is never field-level encrypted, so CloudFront refuses it before anything else.
        expect(r.status, `${route.method} ${path}`).toBe(route.method === "PUT" ? 405 : 404);
        expect(hasRequestId(r)).toBe(true);
      }
    }
    const after = await p.api(`/api/records/${recordId}`, { token: p.alice.token });
    expect(after.status).toBe(200);
    expect(await after.json()).toEqual(original);
    // The two reads above are the only rows written (their audit entries).
    const [was, now] = [JSON.parse(before), JSON.parse(await rowCounts())];
    expect({ ...now, a: Number(now.a) - 2 }).toEqual({ ...was, a: Number(was.a) });
  });

  it("missing, forged, expired, alg:none and malformed tokens on every route get 401", async () => {
    const tokens = {
      ...badTokens(p.alice.token),
      empty: "",
      spaces: "a b c",
      twoTokens: `${p.alice.token} ${p.alice.token}`,
      basic: "Basic YWxpY2U6c2VjcmV0",
    };
    for (const route of recordRoutes) {
      const path = route.resource.replace("{id}", recordId);
      for (const [kind, token] of Object.entries(tokens)) {
        const headers: Record<string, string> = { "content-type": formType };
        if (token) headers.authorization = kind === "basic" ? token : `Bearer ${token}`;
        const body =
          route.method === "GET" || route.method === "DELETE"
            ? undefined
            : recordForm({ fullName: plant(), dateOfBirth: "1990-01-01" });
        const r = await attempt(`${route.method} ${route.resource} ${kind}`, () =>
          p.api(path, { method: route.method, headers, ...(body ? { body } : {}) }),
        );
        // A PUT body is never field-level encrypted, so CloudFront refuses it before any token check.
        expect(r.status, `${route.method} ${route.resource} with ${kind}`).toBe(
          route.method === "PUT" ? 405 : 401,
        );
        expect(hasRequestId(r)).toBe(true);
      }
    }
  });
});

describe("FLE ciphertext that is tampered with, foreign or moved", () => {
  const fleKey = () => ({
    publicKeyPem: p.stack.identities.fle.publicKeyPem,
    providerId: p.stack.identities.fle.providerId,
    keyName: p.stack.identities.fle.keyName,
  });
  const direct = (body: string) =>
    attempt("direct FLE", () =>
      p.direct({ method: "POST", path: "/api/records", body, contentType: formType, token: p.alice.token }),
    );
  const enc = (v: string) => encryptFleField(v, fleKey());
  const form = (fields: Record<string, string>) =>
    Object.entries({ category: "general", ...fields })
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("&");

  it("tampered, truncated, foreign-key and wrongly declared ciphertext gets 400 and writes nothing", async () => {
    const before = await rowCounts();
    const good = await enc(plant());
    const dob = await enc("1990-01-01");
    const bytes = Buffer.from(good, "base64");
    const flip = (i: number) => {
      const b = Buffer.from(bytes);
      b[i] = (b[i] ?? 0) ^ 0x01;
      return b.toString("base64");
    };
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const foreign = await encryptFleField(plant(), {
      ...fleKey(),
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    });
    const wrongName = await encryptFleField(plant(), { ...fleKey(), keyName: "someone-elses-key" });
    const cases: Record<string, string> = {
      "a flipped byte in the body": form({ fullName: flip(bytes.length - 20), dateOfBirth: dob }),
      "a flipped byte in the header": form({ fullName: flip(10), dateOfBirth: dob }),
      "a flipped byte in the wrapped key": form({ fullName: flip(60), dateOfBirth: dob }),
      truncated: form({ fullName: bytes.subarray(0, bytes.length - 7).toString("base64"), dateOfBirth: dob }),
      "only the header": form({ fullName: bytes.subarray(0, 40).toString("base64"), dateOfBirth: dob }),
      "another key pair": form({ fullName: foreign, dateOfBirth: dob }),
      "another key name": form({ fullName: wrongName, dateOfBirth: dob }),
      "not base64": form({ fullName: "%%%not-base64%%%", dateOfBirth: dob }),
      "a non-FLE field encrypted": `${form({ fullName: good, dateOfBirth: dob })}&category2=${encodeURIComponent(await enc("x"))}`,
      "the same ciphertext twice in one form": form({ fullName: good, notes: good, dateOfBirth: dob }),
    };
    for (const [label, body] of Object.entries(cases)) {
      const r = await direct(body);
      if (label === "the same ciphertext twice in one form") {
        // Both decrypt to the caller's own value; validation decides (a name is valid text for notes).
        expect([201, 400], label).toContain(r.status);
        continue;
      }
      expect(r.status, label).toBe(400);
      expect(hasRequestId(r)).toBe(true);
    }
    // Everything above but the self-copy was refused; the self-copy may have stored one record.
    const after = JSON.parse(await rowCounts()) as Record<string, string>;
    const was = JSON.parse(before) as Record<string, string>;
    expect(Number(after.r) - Number(was.r)).toBeLessThanOrEqual(1);
  });

  it("another user's FLE ciphertext replayed through CloudFront is encrypted again and never yields their value", async () => {
    const c = makeCanaries();
    const since = p.wire.mark();
    const bobs = await createRecord(p, p.bob.token, canaryFields(c));
    expect(bobs.status).toBe(201);
    const wire = p.wire.recorded(undefined, since).toString("latin1");
    const captured = /fullName=([^&\r\n]+)/.exec(wire)?.[1];
    expect(captured, "bob's fullName ciphertext on the wire").toBeTruthy();
    const stolen = decodeURIComponent(captured ?? "");
    const r = await attempt("replayed ciphertext", () =>
      post(form({ notes: stolen, fullName: "Alice Replayer", dateOfBirth: "1990-01-01" })),
    );
    expect([201, 400]).toContain(r.status);
    if (r.status === 201) {
      const id = (JSON.parse(r.text) as { id: string }).id;
      const mine = await p.api(`/api/records/${id}`, { token: p.alice.token });
      const text = await mine.text();
      expect(text).not.toContain(c.tag);
      expect((JSON.parse(text) as { notes: string }).notes).toBe(stolen);
    }
  });
});

describe("odd but valid text is stored safely and reads back byte for byte", () => {
  it("SQL, script, template, path and unicode payloads in free-text fields", async () => {
    const payloads = [
      "'; DROP TABLE records; --",
      "' OR '1'='1",
      "<script>alert(1)</script>",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup string is the point
      "${jndi:ldap://x/a}",
      "{{7*7}} <%= 7*7 %>",
      "../../../../etc/passwd",
      "😀 Ünïcödé ‮ RTL",
      "line1\nline2\ttab",
      `${"x".repeat(3990)}`,
    ];
    for (const text of payloads) {
      const canary = plant();
      const fields = { fullName: `Odd ${canary}`, dateOfBirth: "1980-05-05", notes: text, diagnosis: canary };
      const created = await createRecord(p, p.alice.token, fields);
      tried += 1;
      expect(created.status, text.slice(0, 20)).toBe(201);
      const read = await p.api(`/api/records/${created.id}`, { token: p.alice.token });
      const body = (await read.json()) as Record<string, string>;
      expect(body.notes).toBe(text.trim());
      expect(body.diagnosis).toBe(canary);
    }
  });
});

describe("after every bad input above", () => {
  it("no 5xx was answered, and no planted canary is in any log line or database column", async () => {
    expect(fiveHundreds).toEqual([]);
    await p.stack.stop(); // flushes every log
    const logHits = await scanFiles([p.stack.info.logDir], planted);
    expect(logHits).toEqual([]);
    const dbHits = await scanDatabase(pgServer.connectionString, planted);
    expect(dbHits).toEqual([]);
  });

  it("no record canary crossed either hop in clear (answers at CloudFront, both ways past it)", () => {
    expect(p.leaks()).toEqual([]);
  });
});
