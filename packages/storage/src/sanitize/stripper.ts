/**
 * The shape every format's metadata stripper has: a push parser that rewrites a file chunk by chunk in
 * bounded memory (it holds at most a few header bytes between chunks), throwing `ImageRejectedError`
 * (`corrupt`) on a broken structure.
 */
import { ImageRejectedError } from "../errors.ts";

export type Emit = (bytes: Buffer) => void;

export interface Stripper {
  /** Parses `chunk`, emitting the bytes to keep. */
  write(chunk: Buffer, emit: Emit): void;
  /** The input ended: throws unless the file was complete. */
  end(emit: Emit): void;
  /** What was removed or blanked, by kind (e.g. `APP1: 1`): value-free, for logs and tests. */
  readonly removed: Readonly<Record<string, number>>;
}

export const corrupt = (detail: string) => new ImageRejectedError("corrupt", detail);

/** Counts removals by kind. */
export class Removals {
  readonly counts: Record<string, number> = {};
  add(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
}

/**
 * Joins bytes held back from the previous chunk with the next one. The remainder is copied, so a
 * large chunk is never kept alive for the few bytes still needed from it.
 */
export class Carry {
  private held: Buffer = Buffer.alloc(0);
  join(chunk: Buffer): Buffer {
    return this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
  }
  keep(data: Buffer, from: number): void {
    this.held = from >= data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(from));
  }
  get size(): number {
    return this.held.length;
  }
}
