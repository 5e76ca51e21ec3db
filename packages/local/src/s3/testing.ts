/**
 * Test helpers for the image flow through the local stack, acting as the browser does: announce an
 * upload through CloudFront, encrypt in the upload format (the Encryption SDK for Node.js; the browser
 * SDK's output is tested in @veil/storage and by web-e2e), PUT to the presigned URL, wait for the
 * ingest, download through CloudFront. Tests only.
 */
import { encryptUpload } from "@veil/storage";
import { type ApiClient, sessionClients } from "../client/index.ts";
import type { LocalStack } from "../stack/start.ts";

/** The answer of `POST /api/records/{id}/images`. */
export interface UploadTicket {
  readonly imageId: string;
  readonly status: string;
  readonly uploadUrl: string;
  readonly uploadMethod: string;
  readonly uploadHeaders: Record<string, string>;
  readonly expiresAt: string;
  readonly publicKey: { readonly pem: string; readonly providerId: string; readonly keyName: string };
  readonly encryption: {
    readonly format: string;
    readonly algorithmSuiteId: number;
    readonly frameLength: number;
    readonly encryptionContext: Record<string, string>;
    readonly contentLength: number;
  };
}

export interface ImageView {
  readonly id: string;
  readonly status: "pending" | "ready" | "rejected";
  readonly reason?: string;
  readonly contentType: string;
  readonly size?: number;
  readonly href?: string;
}

/**
 * The image calls of one user; API calls carry a proof of the session's key (`client`, default the
 * process-wide registry's) and sealed answers, downloads included, come back opened.
 */
export function imageClient(
  stack: LocalStack,
  token: string,
  client: ApiClient = sessionClients.forToken(token),
  edgeUrl = stack.info.edgeUrl,
) {
  const api = (path: string, init: RequestInit = {}) => client.fetch(`${edgeUrl}${path}`, { ...init, token });
  return {
    api,
    async createRecord(): Promise<string> {
      const res = await api("/api/records", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          category: "radiology",
          fullName: "Image Owner",
          dateOfBirth: "1980-02-03",
        }).toString(),
      });
      if (res.status !== 201) throw new Error(`record not created: ${res.status}`);
      return ((await res.json()) as { id: string }).id;
    },
    announce(recordId: string, contentType: string, size: number) {
      return api(`/api/records/${recordId}/images`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ contentType, size: String(size) }).toString(),
      });
    },
    async ticket(recordId: string, contentType: string, size: number): Promise<UploadTicket> {
      const res = await this.announce(recordId, contentType, size);
      if (res.status !== 201) throw new Error(`upload not announced: ${res.status} ${await res.text()}`);
      return (await res.json()) as UploadTicket;
    },
    /** Encrypts `file` in the upload format for the ticket's image (the signed length unless it is whole frames). */
    encrypt(ticket: UploadTicket, file: Uint8Array) {
      return encryptUpload(file, {
        publicKey: ticket.publicKey,
        context: ticket.encryption.encryptionContext,
        frameLength: ticket.encryption.frameLength,
      });
    },
    put(ticket: UploadTicket, body: Uint8Array) {
      return fetch(ticket.uploadUrl, { method: "PUT", body: body as Uint8Array<ArrayBuffer> });
    },
    /** Announce, encrypt, PUT, wait for the ingest; returns the image's view. */
    async upload(
      recordId: string,
      contentType: string,
      file: Uint8Array,
    ): Promise<{ ticket: UploadTicket; image: ImageView }> {
      const ticket = await this.ticket(recordId, contentType, file.byteLength);
      const put = await this.put(ticket, await this.encrypt(ticket, file));
      if (put.status !== 200) throw new Error(`upload refused by S3: ${put.status}`);
      await stack.images.idle();
      return { ticket, image: await this.image(recordId, ticket.imageId) };
    },
    async list(recordId: string): Promise<ImageView[]> {
      const res = await api(`/api/records/${recordId}/images`);
      if (res.status !== 200) throw new Error(`list failed: ${res.status}`);
      return ((await res.json()) as { items: ImageView[] }).items;
    },
    async image(recordId: string, imageId: string): Promise<ImageView> {
      const found = (await this.list(recordId)).find((i) => i.id === imageId);
      if (!found) throw new Error("image not listed");
      return found;
    },
    download(recordId: string, imageId: string) {
      return api(`/api/records/${recordId}/images/${imageId}`);
    },
  };
}
