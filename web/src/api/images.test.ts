import { generateKeyPairSync } from "node:crypto";
import { uploadCiphertextLength, uploadEncryptionContext } from "@veil/storage/upload-web";
import { describe, expect, it, vi } from "vitest";
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

function fakeApi(size: number) {
  const calls: ApiRequest[] = [];
  const context = uploadEncryptionContext("img-1");
  const call = (async (request: ApiRequest) => {
    calls.push(request);
    return {
      status: 201,
      etag: undefined,
      body: {
        imageId: "img-1",
        uploadUrl: "https://s3.example/inbox/x?X-Amz-Signature=abc",
        uploadHeaders: {},
        publicKey: key,
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

  it("refuses other types, empty and oversized files before sending anything", async () => {
    expect(checkFile({ type: "image/gif", size: 10 })).toMatch(/JPEG, PNG, WebP or PDF/);
    expect(checkFile({ type: "image/jpeg", size: 0 })).toMatch(/empty/);
    expect(checkFile({ type: "application/pdf", size: 26 * 1024 * 1024 })).toMatch(/25 MB/);
    const { call, calls } = fakeApi(1);
    const api = imagesApi({ call });
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
    await expect(imagesApi({ call }).download("r", "i")).rejects.toMatchObject({
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
    const blob = await imagesApi({ call }).download("rec 1", "img-1");
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
    await expect(imagesApi({ call }).download("r", "i")).rejects.toBeInstanceOf(SealedAnswerError);
  });
});
