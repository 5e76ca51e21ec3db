/**
 * The type check and metadata stripping of an image, as one stream: the real type is read from the
 * magic bytes (never from a name or a declared header), must be one of the accepted types and, when a
 * type was declared, that one; then the format's stripper rewrites the file in bounded memory.
 */
import { Transform, type TransformCallback } from "node:stream";
import type { ImageContentType } from "@veil/core";
import { ImageRejectedError, StorageError } from "../errors.ts";
import { JpegStripper } from "./jpeg.ts";
import { PdfStripper } from "./pdf.ts";
import { PngStripper } from "./png.ts";
import type { Stripper } from "./stripper.ts";
import { WebpStripper } from "./webp.ts";

/** Bytes the type check needs at most. */
export const sniffBytes = 12;

/**
 * The type of a file by its first bytes, or `undefined` when it is none of the accepted types (or too
 * short to tell).
 */
export function detectImageType(head: Uint8Array): ImageContentType | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (
    b.length >= 8 &&
    b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
  ) {
    return "image/png";
  }
  if (b.length >= 12 && b.toString("latin1", 0, 4) === "RIFF" && b.toString("latin1", 8, 12) === "WEBP") {
    return "image/webp";
  }
  if (b.length >= 5 && b.toString("latin1", 0, 5) === "%PDF-") return "application/pdf";
  return undefined;
}

function stripperFor(type: ImageContentType): Stripper {
  switch (type) {
    case "image/jpeg":
      return new JpegStripper();
    case "image/png":
      return new PngStripper();
    case "image/webp":
      return new WebpStripper();
    case "application/pdf":
      return new PdfStripper();
  }
}

export interface SanitizeOptions {
  /** The type the uploader declared; bytes of another accepted type are `typeMismatch`. */
  readonly declaredType?: ImageContentType;
}

/** A stream that checks the type and strips metadata; its only error is an `ImageRejectedError`. */
export class ImageSanitizer extends Transform {
  /** The type found in the magic bytes, once known. */
  detectedType: ImageContentType | undefined;
  /** Bytes written out. */
  bytesOut = 0;
  private stripper: Stripper | undefined;
  private head: Buffer[] = [];
  private headLength = 0;

  constructor(private readonly options: SanitizeOptions = {}) {
    super();
  }

  /** What the stripper removed or blanked, by kind. */
  get removed(): Readonly<Record<string, number>> {
    return this.stripper?.removed ?? {};
  }

  private readonly output = (bytes: Buffer) => {
    this.bytesOut += bytes.length;
    this.push(bytes);
  };

  private start(head: Buffer): void {
    const type = detectImageType(head);
    if (!type) throw new ImageRejectedError("unsupportedType", "magic bytes");
    if (this.options.declaredType && type !== this.options.declaredType) {
      throw new ImageRejectedError("typeMismatch", `bytes are ${type}`);
    }
    this.detectedType = type;
    this.stripper = stripperFor(type);
    this.stripper.write(head, this.output);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      if (this.stripper) {
        this.stripper.write(chunk, this.output);
      } else {
        this.head.push(chunk);
        this.headLength += chunk.length;
        if (this.headLength >= sniffBytes) {
          const head = Buffer.concat(this.head);
          this.head = [];
          this.start(head);
        }
      }
      done();
    } catch (err) {
      done(rejection(err));
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (!this.stripper) this.start(Buffer.concat(this.head));
      this.stripper?.end(this.output);
      done();
    } catch (err) {
      done(rejection(err));
    }
  }
}

function rejection(err: unknown): StorageError {
  return err instanceof StorageError ? err : new ImageRejectedError("corrupt", "parser failure");
}

/** A new sanitizing stream. */
export function sanitizeImage(options: SanitizeOptions = {}): ImageSanitizer {
  return new ImageSanitizer(options);
}
