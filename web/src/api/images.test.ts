import { createHash, generateKeyPairSync } from "node:crypto";
import { uploadCiphertextLength, uploadEncryptionContext } from "@veil/storage/upload-web";
import { describe, expect, it, vi } from "vitest";
import { uploadKeyAllowed, uploadUrlAllowed } from "../config.ts";
import { accessTokenFor, memoryKeyStore, sealedResponse } from "../testing/sealed-answers.ts";
import { type ApiClient, type ApiRequest, createApiClient } from "./client.ts";
import { ApiError, SealedAnswerError } from "./errors.ts";
import { checkFile, imagesApi } from "./images.ts";
import { createSessionKeyring } from "./session-keys.ts";

// The browser Encryption SDK finds WebCrypto on `window` or `self` when it loads; Node has it on
// `globalThis`.
vi.hoisted(() => {
  (globalThis as { self?: unknown }).self ??= globalThis;
});

const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
const key = { pem, providerId: "veil-local-fle", keyName: "veil-local-fle-key-1" };
const keys = createSessionKeyring({ store: memoryKeyStore() });
keys.signingIn();

// The inbox bucket and the upload key of the runtime config: the one place and key an image may go to.
const spkiSha256 = (k: typeof publicKey) =>
  createHash("sha256")
    .update(k.export({ type: "spki", format: "der" }))
    .digest("base64url");
const config = {
  region: "eu-west-1",
  uploadOrigins: ["https://s3.example"],
  uploadKeySha256: [spkiSha256(publicKey)],
};
const allowed = (url: URL) => uploadUrlAllowed(config, url);
const keyAllowed = (p: string) => uploadKeyAllowed(config, p);

function fakeApi(
  size: number,
  uploadUrl = "https://s3.example/inbox/x?X-Amz-Signature=abc",
  publicKey: typeof key = key,
) {
  const calls: ApiRequest[] = [];
  const context = uploadEncryptionContext("img-1");
  const call = (async (request: ApiRequest) => {
    calls.push(request);
    return {
      status: 201,
      etag: undefined,
      body: {
        imageId: "img-1",
        uploadUrl,
        uploadHeaders: {},
        publicKey,
        encryption: {
          frameLength: 1024,
          encryptionContext: context,
          contentLength: uploadCiphertextLength(size, {
            ...key,
            modulusBytes: 256,
            context,
            frameLength: 1024,
          }),
        },
      },
    };
  }) as ApiClient;
  return { call, calls };
}

describe("image uploads from the browser", { timeout: 30_000 }, () => {
  it("announces type and size, then PUTs only ciphertext of exactly the signed length", async () => {
    const file = new Blob([new Uint8Array(5000).fill(7)], { type: "image/png" });
    const { call, calls } = fakeApi(file.size);
    let put: { url: string; body: Uint8Array } | undefined;
    const api = imagesApi({
      call,
      uploadUrlAllowed: allowed,
      uploadKeyAllowed: keyAllowed,
      fetch: async (url, init) => {
        put = { url: String(url), body: new Uint8Array(init?.body as Uint8Array) };
        return new Response(null, { status: 200 });
      },
    });
    const steps: string[] = [];
    expect(await api.upload("rec-1", file, (s) => steps.push(s))).toBe("img-1");
    expect(calls[0]?.form?.toString()).toBe("contentType=image%2Fpng&size=5000");
    expect(steps).toEqual(["encrypting", "uploading"]);
    expect(put?.url).toContain("X-Amz-Signature");
    expect([...(put?.body.subarray(0, 4) ?? [])]).toEqual([0x01, 0x80, 0x01, 0x78]);
    const signed = uploadCiphertextLength(5000, {
      ...key,
      modulusBytes: 256,
      context: uploadEncryptionContext("img-1"),
      frameLength: 1024,
    });
    expect(put?.body.length).toBe(signed);
    expect(Buffer.from(put?.body ?? []).includes(Buffer.alloc(64, 7))).toBe(false);
  });

  it("refuses a ticket whose upload URL is not the inbox's before encrypting or sending a byte", async () => {
    const file = new Blob([new Uint8Array(100).fill(7)], { type: "image/png" });
    for (const uploadUrl of [
      "https://veil.example/api/capture?X-Amz-Signature=abc", // the app's own origin: CloudFront's
      "https://s3.example.evil.test/x",
      "http://s3.example/x",
      "not a url",
    ]) {
      const { call } = fakeApi(file.size, uploadUrl);
      const put = vi.fn(async () => new Response(null, { status: 200 }));
      const steps: string[] = [];
      const api = imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed, fetch: put });
      await expect(api.upload("r", file, (s) => steps.push(s))).rejects.toMatchObject({
        code: "UploadTicketRefused",
      });
      expect(steps).toEqual([]);
      expect(put).not.toHaveBeenCalled();
    }
  });

  it("refuses a ticket naming another public key before encrypting or sending a byte", async () => {
    const file = new Blob([new Uint8Array(100).fill(7)], { type: "image/png" });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const forged = { ...key, pem: other.export({ type: "spki", format: "pem" }).toString() };
    for (const publicKey of [forged, { ...key, pem: "not a key" }]) {
      const { call } = fakeApi(file.size, undefined, publicKey);
      const put = vi.fn(async () => new Response(null, { status: 200 }));
      const steps: string[] = [];
      const api = imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed, fetch: put });
      await expect(api.upload("r", file, (s) => steps.push(s))).rejects.toMatchObject({
        code: "UploadTicketRefused",
      });
      expect(steps).toEqual([]);
      expect(put).not.toHaveBeenCalled();
    }
    expect(await uploadKeyAllowed(config, pem)).toBe(true);
    expect(await uploadKeyAllowed({}, forged.pem)).toBe(true); // nothing pinned
    expect(await uploadKeyAllowed(undefined, pem)).toBe(false); // no config loaded
  });

  it("allows, without configured origins, only https S3 buckets of the region", () => {
    const aws = { region: "eu-west-1" };
    const ok = (u: string) => uploadUrlAllowed(aws, new URL(u));
    expect(ok("https://veil-inbox-1.s3.eu-west-1.amazonaws.com/k?X-Amz-Signature=a")).toBe(true);
    expect(ok("https://veil-inbox-1.s3.us-east-1.amazonaws.com/k")).toBe(false);
    expect(ok("http://veil-inbox-1.s3.eu-west-1.amazonaws.com/k")).toBe(false);
    expect(ok("https://veil.example/k")).toBe(false);
    expect(ok("https://s3.eu-west-1.amazonaws.com.evil.test/k")).toBe(false);
    expect(uploadUrlAllowed(undefined, new URL("https://s3.example/x"))).toBe(false);
  });

  it("refuses other types, empty and oversized files before sending anything", async () => {
    expect(checkFile({ type: "image/gif", size: 10 })).toMatch(/JPEG, PNG, WebP or PDF/);
    expect(checkFile({ type: "image/jpeg", size: 0 })).toMatch(/empty/);
    expect(checkFile({ type: "application/pdf", size: 26 * 1024 * 1024 })).toMatch(/25 MB/);
    const { call, calls } = fakeApi(1);
    const api = imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed });
    await expect(api.upload("r", new Blob(["x"], { type: "text/html" }))).rejects.toBeInstanceOf(ApiError);
    expect(calls).toEqual([]);
  });

  it("a download answered with an error becomes a typed error", async () => {
    const call = createApiClient({
      accessToken: async () => accessTokenFor("ada"),
      keys,
      baseUrl: "https://veil.example",
      fetch: async () =>
        new Response(
          JSON.stringify({ error: "ImageIntegrityError", message: "failed its integrity check" }),
          {
            status: 502,
          },
        ),
    });
    await expect(
      imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed }).download("r", "i"),
    ).rejects.toMatchObject({
      status: 502,
      code: "ImageIntegrityError",
    });
  });
});

describe("image downloads", { timeout: 30_000 }, () => {
  it("open the streamed sealed image into a Blob of its type", async () => {
    const image = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const paths: string[] = [];
    const call = createApiClient({
      accessToken: async () => accessTokenFor("ada"),
      keys,
      baseUrl: "https://veil.example",
      fetch: async (url, init) => {
        paths.push(String(url));
        return sealedResponse(init?.headers, image, {
          streamed: true,
          type: "image/jpeg",
          frameLength: 65_536,
        });
      },
    });
    const blob = await imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed }).download(
      "rec 1",
      "img-1",
    );
    expect(paths).toEqual(["https://veil.example/api/records/rec%201/images/img-1"]);
    expect(blob.type).toBe("image/jpeg");
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(image);
  });

  it("refuse a sealed file whose type is not an image type the app accepts", async () => {
    const call = createApiClient({
      accessToken: async () => accessTokenFor("ada"),
      keys,
      baseUrl: "https://veil.example",
      fetch: async (_, init) =>
        sealedResponse(init?.headers, new Uint8Array([60, 115]), { streamed: true, type: "text/html" }),
    });
    await expect(
      imagesApi({ call, uploadUrlAllowed: allowed, uploadKeyAllowed: keyAllowed }).download("r", "i"),
    ).rejects.toBeInstanceOf(SealedAnswerError);
  });
});
