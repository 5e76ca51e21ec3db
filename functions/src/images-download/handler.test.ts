/**
 * The image download leaves sealed: one Encryption SDK message streamed in 64 KiB frames that the stock
 * client opens with the browser's private key, announced as `application/vnd.veil.sealed` with the
 * image type in `x-veil-sealed-type` and no `content-length`. The first frame of the stored image is
 * still authenticated before the status line; later damage aborts the stream.
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject, randomBytes, randomUUID } from "node:crypto";
import { PassThrough, Readable, type Writable } from "node:stream";
import { buildClient, CommitmentPolicy, RawRsaKeyringNode } from "@aws-crypto/client-node";
import { sealedAnswer } from "@veil/core";
import { CiphertextError, type EnvelopeCrypto } from "@veil/crypto";
import { createPool, images, migrate, records } from "@veil/db";
import { startTestPostgres, type TestPostgres } from "@veil/db/testing";
import type { ObjectStore } from "@veil/storage";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { calculateJwkThumbprint } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Caller } from "../shared/auth.ts";
import type { Pool } from "../shared/database.ts";
import { answerSealer } from "../shared/sealing.ts";
import { type DownloadDeps, type ResponseStreaming, serveDownload } from "./handler.ts";

// The handler builds its entry point from Lambda's `awslambda` global on import (see ../images/ids.test.ts).
vi.hoisted(() => {
  (globalThis as { awslambda?: object }).awslambda = { streamifyResponse: (h: unknown) => h };
});

const stock = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const sub = `owner-${randomBytes(4).toString("hex")}`;
const image = Buffer.alloc(200 * 1024);
for (let i = 0; i < image.length; i++) image[i] = (i * 7) % 256;

let server: TestPostgres;
let pool: Pool;
let privateKey: KeyObject;
let sealKey: JsonWebKey;
let recordId = "";
let imageId = "";

beforeAll(async () => {
  const pair = generateKeyPairSync("rsa", { modulusLength: 3072 });
  privateKey = pair.privateKey;
  const { kty, n, e } = pair.publicKey.export({ format: "jwk" });
  sealKey = { kty, n, e, alg: "RSA-OAEP-256", use: "enc" };
  server = await startTestPostgres();
  pool = createPool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  recordId = records.newRecordId();
  await records.insert(pool, {
    id: recordId,
    ownerId: sub,
    category: "general",
    ciphertext: Buffer.from([1]),
  });
  imageId = randomUUID();
  await images.createPending(pool, {
    id: imageId,
    ownerId: sub,
    recordId,
    contentType: "image/png",
    declaredSize: image.length,
    uploadExpiresAt: new Date(Date.now() + 300_000),
  });
  await images.markReady(pool, {
    id: imageId,
    ownerId: sub,
    contentType: "image/png",
    size: image.length,
    objectVersion: "v1",
  });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const caller = (): Caller => ({
  sub,
  username: sub,
  proof: { jti: "jti-download-0123456789", jkt: "k" },
  sealKey,
});

/** The stored image "decrypts" to `plaintext`; a failure at `failAt` bytes stands for a bad frame. */
function deps(failAt?: number): DownloadDeps {
  return {
    pool,
    store: { open: async () => ({ body: Readable.from([Buffer.from("stored")]) }) } as unknown as ObjectStore,
    envelope: {
      decryptStream: () =>
        Readable.from(
          (async function* () {
            for (let at = 0; at < image.length; at += 64 * 1024) {
              if (failAt !== undefined && at >= failAt) throw new CiphertextError("tampered");
              yield image.subarray(at, at + 64 * 1024);
            }
          })(),
        ),
    } as unknown as EnvelopeCrypto,
    verifyCaller: async () => caller(),
    sealer: answerSealer,
    imagesBucket: "images",
  };
}

async function download(d: DownloadDeps) {
  let status = 0;
  let headers: Record<string, string> = {};
  const streaming: ResponseStreaming = {
    streamifyResponse: () => undefined,
    HttpResponseStream: {
      from(stream: Writable, metadata: { statusCode: number; headers?: Record<string, string> }) {
        status = metadata.statusCode;
        headers = metadata.headers ?? {};
        return stream;
      },
    },
  };
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  let aborted = false;
  out.on("data", (c: Buffer) => chunks.push(c));
  out.on("error", () => {
    aborted = true;
  });
  const event = {
    httpMethod: "GET",
    resource: "/api/records/{id}/images/{imageId}",
    path: `/api/records/${recordId}/images/${imageId}`,
    pathParameters: { id: recordId, imageId },
    headers: {},
    requestContext: { requestId: "req-1" },
  } as unknown as APIGatewayProxyEvent;
  await serveDownload(streaming, d, event, out, { awsRequestId: "aws-1" });
  return { status, headers, body: Buffer.concat(chunks), aborted: aborted || out.destroyed };
}

async function keyring() {
  return new RawRsaKeyringNode({
    keyNamespace: sealedAnswer.keyNamespace,
    keyName: await calculateJwkThumbprint(sealKey as never),
    rsaKey: { privateKey: privateKey as never },
    oaepHash: "sha256",
  });
}

describe("sealed image download", { timeout: 60_000 }, () => {
  it("streams one sealed message that the stock client opens to the image, bound to the proof", async () => {
    const res = await download(deps());
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      "content-type": sealedAnswer.streamContentType,
      [sealedAnswer.plaintextTypeHeader]: "image/png",
      "cache-control": "no-store",
    });
    expect(Object.keys(res.headers).map((h) => h.toLowerCase())).not.toContain("content-length");
    expect(res.body.includes(image.subarray(1000, 1100))).toBe(false);
    const opened = await stock.decrypt(await keyring(), res.body);
    expect(Buffer.from(opened.plaintext).equals(image)).toBe(true);
    expect(opened.messageHeader.encryptionContext[sealedAnswer.contextProofKey]).toBe(
      "jti-download-0123456789",
    );
    expect(opened.messageHeader.frameLength).toBe(64 * 1024);
  });

  it("a bad first frame is a clean JSON error before any status line of success", async () => {
    const res = await download(deps(0));
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString("utf8"))).toMatchObject({ error: "ImageIntegrityError" });
  });

  it("damage further in aborts the stream: the client never gets a whole message", async () => {
    const res = await download(deps(128 * 1024));
    expect(res.status).toBe(200);
    expect(res.aborted).toBe(true);
    await expect(stock.decrypt(await keyring(), res.body)).rejects.toThrow();
  });

  it("a sealing key that cannot be used is a clean error, not a stream", async () => {
    const d = deps();
    const res = await download({
      ...d,
      verifyCaller: async () => ({ ...caller(), sealKey: { ...sealKey, e: "Aw" } }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(res.body.toString("utf8"))).toMatchObject({ requestId: "req-1" });
  });
});
