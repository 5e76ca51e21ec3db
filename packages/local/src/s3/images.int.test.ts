/**
 * Encrypted images end to end on the zero-setup local stack (embedded s3rver, real PostgreSQL): the
 * browser's upload path (announce → encrypt → presigned PUT), the S3-event ingest in its own Lambda
 * process, the streamed download through CloudFront, refusals that leave nothing behind, and canaries
 * that never reach S3, the database or a log in clear.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageLimits } from "@veil/core";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import { imageKey } from "@veil/storage";
import { jpegFixture, pdfFixture, pngFixture } from "@veil/storage/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpAndSignIn } from "../cognito/index.ts";
import { scanDatabase, scanFiles } from "../scan/index.ts";
import { ephemeralPorts } from "../stack/config.ts";
import { type LocalStack, startLocalStack } from "../stack/start.ts";
import { imageClient } from "./testing.ts";

const tag = randomBytes(5).toString("hex");
/** Kept in the image (JFIF thumbnail pixels): in the download, nowhere at rest in clear. */
const keptCanary = `CANARY-PIXELS-${tag}-`;
/** In the EXIF block next to the GPS position: stripped, so in no download either. */
const gpsCanary = `CANARY-GPS-${tag}`;

let pgServer: TestPostgres;
let stack: LocalStack;
let stateDir: string;
let alice: ReturnType<typeof imageClient>;
let bob: ReturnType<typeof imageClient>;
let recordId: string;

beforeAll(async () => {
  pgServer = await startTestPostgres();
  stateDir = mkdtempSync(join(tmpdir(), "veil-images-"));
  stack = await startLocalStack({
    stateDir,
    ports: ephemeralPorts,
    databaseUrl: pgServer.connectionString,
    webRoot: stateDir,
  });
  const user = async (who: string) =>
    imageClient(
      stack,
      (
        await signUpAndSignIn(stack.info.cognito.endpoint, stack.info.cognito.clientId, {
          email: `${who}-${tag}@users.example.net`,
          password: `Pw-${randomBytes(9).toString("base64url")}-1a`,
        })
      ).accessToken,
    );
  alice = await user("alice");
  bob = await user("bob");
  recordId = await alice.createRecord();
});

afterAll(async () => {
  await stack?.stop();
  await pgServer?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** Every file under a folder, with its size (the s3rver store). */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const name of readdirSync(p)) {
      const full = join(p, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

const inboxObjects = () =>
  files(join(stateDir, "s3")).filter(
    (f) => f.includes(stack.images.s3.info.buckets.inbox) && !f.endsWith("metadata.json"),
  );

describe("an image through the whole path", () => {
  const fixture = jpegFixture({
    width: 64,
    height: 48,
    keptBytes: Buffer.from(keptCanary),
    exifText: gpsCanary,
  });
  let imageId = "";

  it("is announced, encrypted in the 'browser', PUT to the presigned URL, ingested and listed ready", async () => {
    expect(stack.info.s3Endpoint).toBe(stack.images.s3.info.endpoint);
    const { ticket, image } = await alice.upload(recordId, "image/jpeg", fixture.original);
    imageId = ticket.imageId;
    expect(ticket.uploadUrl.startsWith(stack.images.s3.info.endpoint)).toBe(true);
    expect(ticket.publicKey.pem).toContain("BEGIN PUBLIC KEY");
    expect(ticket.encryption).toMatchObject({
      algorithmSuiteId: 0x0178,
      encryptionContext: { "veil:image-id": imageId },
    });
    expect(image).toMatchObject({
      status: "ready",
      contentType: "image/jpeg",
      size: fixture.stripped.length,
    });
    expect(inboxObjects()).toEqual([]);
  });

  it("downloads through CloudFront byte-identical to the image without its metadata", async () => {
    const res = await alice.download(recordId, imageId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(fixture.stripped)).toBe(true);
    expect(body.includes(Buffer.from(keptCanary))).toBe(true);
    expect(body.includes(Buffer.from(gpsCanary))).toBe(false);
  });

  it("every download is on the record's audit trail", async () => {
    await alice.download(recordId, imageId).then((r) => r.arrayBuffer());
    const audit = (await (await alice.api(`/api/records/${recordId}/audit`)).json()) as {
      items: { action: string }[];
    };
    const actions = audit.items.map((i) => i.action);
    expect(actions.filter((a) => a === "image.upload")).toHaveLength(1);
    expect(actions.filter((a) => a === "image.download")).toHaveLength(2);
  });

  it("another user can neither list, download nor add images", async () => {
    expect((await bob.api(`/api/records/${recordId}/images`)).status).toBe(404);
    expect((await bob.download(recordId, imageId)).status).toBe(404);
    expect((await bob.announce(recordId, "image/png", 100)).status).toBe(404);
    const bobsRecord = await bob.createRecord();
    expect((await bob.download(bobsRecord, imageId)).status).toBe(404);
  });

  it("a large image (24 MiB PNG) streams through in both directions", { timeout: 120_000 }, async () => {
    const big = pngFixture({ width: 4096, height: 6000, keptBytes: Buffer.from(keptCanary) });
    expect(big.original.length).toBeGreaterThan(20 * 1024 * 1024);
    const { image, ticket } = await alice.upload(recordId, "image/png", big.original);
    expect(image).toMatchObject({ status: "ready", size: big.stripped.length });
    const res = await alice.download(recordId, ticket.imageId);
    expect(Buffer.from(await res.arrayBuffer()).equals(big.stripped)).toBe(true);
  });

  it("erasing the record deletes its stored image once the cleanup has run", async () => {
    const erased = await alice.createRecord();
    const { ticket, image } = await alice.upload(erased, "image/jpeg", fixture.original);
    expect(image.status).toBe("ready");
    const c = new pg.Client({ connectionString: pgServer.connectionString });
    await c.connect();
    const ownerId = await c
      .query<{ owner_id: string }>("SELECT owner_id FROM images WHERE id = $1", [ticket.imageId])
      .then((r) => r.rows[0]?.owner_id ?? "")
      .finally(() => c.end());
    const at = {
      bucket: stack.images.s3.info.buckets.images,
      key: imageKey({ ownerId, recordId: erased, imageId: ticket.imageId }),
    };
    expect(await stack.images.s3.store.head(at)).toBeDefined();
    expect((await alice.api(`/api/records/${erased}`, { method: "DELETE" })).status).toBe(204);
    expect(await stack.images.cleanUp()).toMatchObject({ failed: 0 });
    expect(await stack.images.s3.store.head(at)).toBeUndefined();
  });

  it("no canary is anywhere at rest or in a log: S3 files, every table, every log line", async () => {
    const canaries = { kept: keptCanary, gps: gpsCanary };
    const hits = [
      ...(await scanDatabase(pgServer.connectionString, canaries)),
      ...(await scanFiles([stateDir], canaries)),
    ];
    expect(hits).toEqual([]);
  });
});

describe("refused uploads: a clear reason for the owner, nothing left behind", () => {
  async function rows() {
    const c = new pg.Client({ connectionString: pgServer.connectionString });
    await c.connect();
    try {
      return (await c.query("SELECT id::text, status, reason FROM images")).rows as {
        id: string;
        status: string;
      }[];
    } finally {
      await c.end();
    }
  }
  const storedObject = async (imageId: string) =>
    stack.images.s3.store.head({
      bucket: stack.images.s3.info.buckets.images,
      key: imageKey({ ownerId: (await ownerOf(imageId)) as string, recordId, imageId }),
    });
  async function ownerOf(imageId: string) {
    const c = new pg.Client({ connectionString: pgServer.connectionString });
    await c.connect();
    try {
      return (
        (await c.query("SELECT owner_id FROM images WHERE id = $1", [imageId])).rows[0] as {
          owner_id: string;
        }
      ).owner_id;
    } finally {
      await c.end();
    }
  }

  it("too large: refused at the announcement (413), nothing created", async () => {
    const before = (await rows()).length;
    const res = await alice.announce(recordId, "image/jpeg", imageLimits.maxBytes + 1);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "ImageTooLarge" });
    expect((await rows()).length).toBe(before);
  });

  it("more bytes than announced (s3rver checks no signed length): rejected tooLarge by the ingest", async () => {
    const file = jpegFixture().original;
    const ticket = await alice.ticket(recordId, "image/jpeg", 100);
    expect((await alice.put(ticket, await alice.encrypt(ticket, file))).status).toBe(200);
    await stack.images.idle();
    expect(await alice.image(recordId, ticket.imageId)).toMatchObject({
      status: "rejected",
      reason: "tooLarge",
    });
    expect(await storedObject(ticket.imageId)).toBeUndefined();
    expect(inboxObjects()).toEqual([]);
  });

  const refusals: Array<[string, string, () => Buffer, string]> = [
    [
      "a GIF",
      "image/png",
      () => Buffer.from("GIF89a\x01\x00\x01\x00\x00\x00\x00;", "latin1"),
      "unsupportedType",
    ],
    ["a PDF announced as a JPEG", "image/jpeg", () => pdfFixture().original, "typeMismatch"],
    [
      "a corrupted PNG (bad CRC)",
      "image/png",
      () => {
        const b = Buffer.from(pngFixture().original);
        b[40] = (b[40] as number) ^ 0xff;
        return b;
      },
      "corrupt",
    ],
  ];
  for (const [name, type, make, reason] of refusals) {
    it(`${name}: rejected ${reason}`, async () => {
      const { image, ticket } = await alice.upload(recordId, type, make());
      expect(image).toMatchObject({ status: "rejected", reason });
      expect(image.href).toBeUndefined();
      expect(await storedObject(ticket.imageId)).toBeUndefined();
      expect(inboxObjects()).toEqual([]);
      const res = await alice.download(recordId, ticket.imageId);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error: "ImageNotReady" });
    });
  }

  it("a corrupted upload (ciphertext damaged in transit): rejected undecryptable", async () => {
    const file = jpegFixture().original;
    const ticket = await alice.ticket(recordId, "image/jpeg", file.length);
    const message = Buffer.from(await alice.encrypt(ticket, file));
    message[message.length - 20] = (message[message.length - 20] as number) ^ 1;
    expect((await alice.put(ticket, message)).status).toBe(200);
    await stack.images.idle();
    expect(await alice.image(recordId, ticket.imageId)).toMatchObject({
      status: "rejected",
      reason: "undecryptable",
    });
    expect(await storedObject(ticket.imageId)).toBeUndefined();
    expect(inboxObjects()).toEqual([]);
  });

  it("a bad announcement is a 400 naming the field", async () => {
    const res = await alice.announce(recordId, "image/gif", 10);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ details: [{ field: "contentType" }] });
  });
});
