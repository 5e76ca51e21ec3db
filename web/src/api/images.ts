/**
 * The images API of a record, for the browser. An image is encrypted here, before it leaves the page,
 * with the FLE public key the API hands out (AWS Encryption SDK message, as CloudFront field-level
 * encryption writes; `@veil/storage/upload-web`), and PUT straight to S3 with the short-lived
 * presigned URL — past the edge's 1 MB body limit. Only the owner's browser ever holds the plaintext.
 */
import { type ImageContentType, imageLimits } from "@veil/core";
import { encryptUpload } from "@veil/storage/upload-web";
import type { ApiClient } from "./client.ts";
import { ApiError, NetworkError } from "./errors.ts";

/** An image as the API lists it. */
export interface ImageInfo {
  readonly id: string;
  readonly recordId: string;
  readonly status: "pending" | "ready" | "rejected";
  /** Why the upload was refused (`tooLarge`, `unsupportedType`, `typeMismatch`, `corrupt`, …). */
  readonly reason?: string;
  readonly contentType: ImageContentType;
  readonly size?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What `POST /api/records/{id}/images` answers. */
interface UploadTicket extends ImageInfo {
  readonly imageId: string;
  readonly uploadUrl: string;
  readonly uploadHeaders: Record<string, string>;
  readonly publicKey: { readonly pem: string; readonly providerId: string; readonly keyName: string };
  readonly encryption: {
    readonly frameLength: number;
    readonly encryptionContext: Record<string, string>;
    readonly contentLength: number;
  };
}

/** The reasons of a refused upload, in words. */
export const rejectionText: Record<string, string> = {
  tooLarge: "The file is larger than announced or than 25 MB.",
  unsupportedType: "This kind of file is not accepted: use JPEG, PNG, WebP or PDF.",
  typeMismatch: "The file's content does not match its type.",
  corrupt: "The file is damaged and could not be read.",
  undecryptable: "The upload could not be verified. Please try again.",
  expired: "The upload did not arrive in time. Please try again.",
};

/** Checks a chosen file before anything is sent; returns a message when it cannot be uploaded. */
export function checkFile(file: { readonly type: string; readonly size: number }): string | undefined {
  if (!(imageLimits.contentTypes as readonly string[]).includes(file.type)) {
    return "Choose a JPEG, PNG, WebP or PDF file.";
  }
  if (file.size === 0) return "The file is empty.";
  if (file.size > imageLimits.maxBytes) return "The file is larger than 25 MB.";
  return undefined;
}

const imagesPath = (recordId: string) => `/api/records/${encodeURIComponent(recordId)}/images`;

export interface ImagesApiOptions {
  readonly call: ApiClient;
  /** For the upload to S3 (the presigned URL), the one request that does not go to the API. */
  readonly fetch?: typeof fetch;
  /**
   * Whether the ticket's upload URL may receive the image. A sealed answer is confidential, not
   * authentic: a party on the API path holding the proof's `sek` could forge a ticket that sends the
   * image elsewhere, so the page checks where it goes before encrypting a byte.
   */
  readonly uploadUrlAllowed: (url: URL) => boolean;
  /** Whether the image may be encrypted to the ticket's public key (PEM), checked the same way. */
  readonly uploadKeyAllowed: (pem: string) => Promise<boolean>;
}

/** The images API, typed. */
export function imagesApi(options: ImagesApiOptions) {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  return {
    async list(recordId: string): Promise<ImageInfo[]> {
      return (await options.call<{ items: ImageInfo[] }>({ method: "GET", path: imagesPath(recordId) })).body
        .items;
    },

    /**
     * Announces, encrypts and uploads one file; resolves once S3 has the encrypted bytes (the image is
     * then `pending` until the server has checked it). `onStep` reports progress for the screen.
     */
    async upload(
      recordId: string,
      file: Blob & { readonly type: string },
      onStep: (step: "encrypting" | "uploading") => void = () => undefined,
    ): Promise<string> {
      const problem = checkFile(file);
      if (problem) throw new ApiError(400, "InvalidFile", problem, undefined);
      const form = new URLSearchParams({ contentType: file.type, size: String(file.size) });
      const ticket = (await options.call<UploadTicket>({ method: "POST", path: imagesPath(recordId), form }))
        .body;
      let target: URL | undefined;
      try {
        target = new URL(ticket.uploadUrl);
      } catch {
        target = undefined;
      }
      if (
        !target ||
        !options.uploadUrlAllowed(target) ||
        typeof ticket.publicKey?.pem !== "string" ||
        !(await options.uploadKeyAllowed(ticket.publicKey.pem))
      ) {
        throw new ApiError(
          502,
          "UploadTicketRefused",
          "The upload could not be verified. Please try again.",
          undefined,
        );
      }
      onStep("encrypting");
      const body = await encryptUpload(new Uint8Array(await file.arrayBuffer()), {
        publicKey: ticket.publicKey,
        context: ticket.encryption.encryptionContext,
        frameLength: ticket.encryption.frameLength,
      });
      onStep("uploading");
      let res: Response;
      try {
        // The URL is signed for exactly this length; the browser sets content-length itself.
        res = await doFetch(target.href, {
          method: "PUT",
          body,
          cache: "no-store",
          credentials: "omit",
          redirect: "error",
          referrerPolicy: "no-referrer",
        });
      } catch {
        throw new NetworkError();
      }
      if (!res.ok)
        throw new ApiError(
          res.status,
          "UploadFailed",
          "The upload was not accepted. Please try again.",
          undefined,
        );
      return ticket.imageId;
    },

    /**
     * The decrypted image (it is written to the record's access history): sealed by the function to
     * this session's key, opened in this page.
     */
    async download(recordId: string, imageId: string): Promise<Blob> {
      const res = await options.call<Blob>({
        method: "GET",
        path: `${imagesPath(recordId)}/${encodeURIComponent(imageId)}`,
        fileTypes: imageLimits.contentTypes,
      });
      return res.body;
    },
  };
}

export type ImagesApi = ReturnType<typeof imagesApi>;
