/**
 * PDF, best effort. A PDF's cross-reference table points at byte offsets, so nothing may move:
 * metadata is blanked in place with spaces, never removed.
 * - Document information: the string values of /Title, /Author, /Subject, /Keywords, /Creator,
 *   /Producer, /CreationDate and /ModDate — literal `( … )` or hex `< … >` — become blank strings,
 *   wherever these keys occur (so bookmark titles, which are /Title strings too, go blank as well).
 * - XMP: every `<x:xmpmeta …>…</x:xmpmeta>` (and the older `x:xapmeta`) packet is overwritten with
 *   spaces; XMP packets are designed to be padded with whitespace.
 * Not handled (documented limits): values held in compressed object streams (PDF 1.5+) or behind an
 *   indirect reference (`/Author 12 0 R`), XMP in compressed streams, metadata inside embedded images
 *   or attached files, annotations' authors, JavaScript. The structure is checked lightly: `%PDF-` at
 *   the start (by the type check) and `%%EOF` in the last 1 KiB.
 */
import { corrupt, type Emit, Removals, type Stripper } from "./stripper.ts";

const infoKeys = new Set([
  "Title",
  "Author",
  "Subject",
  "Keywords",
  "Creator",
  "Producer",
  "CreationDate",
  "ModDate",
]);
const space = 0x20;
// Bytes held back so that a pattern (≤ 14 bytes) found later can still blank its own first bytes.
const holdBack = 16;
const maxName = 32;

const isWhite = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0x0c || b === 0;
const isDelimiter = (b: number) =>
  isWhite(b) ||
  b === 0x28 ||
  b === 0x29 ||
  b === 0x3c ||
  b === 0x3e ||
  b === 0x5b ||
  b === 0x5d ||
  b === 0x7b ||
  b === 0x7d ||
  b === 0x2f ||
  b === 0x25;

/** Matches a fixed pattern one byte at a time (patterns here start with `<` and never repeat it). */
class Matcher {
  private at = 0;
  constructor(private readonly pattern: Buffer) {}
  /** Feeds one byte; true when the pattern just completed. */
  step(b: number): boolean {
    if (b === this.pattern[this.at]) this.at++;
    else this.at = b === this.pattern[0] ? 1 : 0;
    if (this.at === this.pattern.length) {
      this.at = 0;
      return true;
    }
    return false;
  }
  get length() {
    return this.pattern.length;
  }
  reset() {
    this.at = 0;
  }
}

type State = "normal" | "name" | "value" | "hexOrDict" | "literal" | "hex" | "xmp";

export class PdfStripper implements Stripper {
  private state: State = "normal";
  private readonly removals = new Removals();
  private held: Buffer = Buffer.alloc(0);
  private name = "";
  private depth = 0;
  private escaped = false;
  private tail: Buffer = Buffer.alloc(0);
  private readonly xmpStarts = [
    new Matcher(Buffer.from("<x:xmpmeta")),
    new Matcher(Buffer.from("<x:xapmeta")),
  ];
  private readonly xmpEnds = [
    new Matcher(Buffer.from("</x:xmpmeta>")),
    new Matcher(Buffer.from("</x:xapmeta>")),
  ];

  get removed() {
    return this.removals.counts;
  }

  write(chunk: Buffer, emit: Emit): void {
    // Work on a copy: blanking is done in place, and the input may be shared.
    const buf = Buffer.concat([this.held, chunk]);
    for (let i = this.held.length; i < buf.length; i++) this.step(buf, i);
    const keepFrom = Math.max(0, buf.length - holdBack);
    if (keepFrom > 0) emit(buf.subarray(0, keepFrom));
    this.held = Buffer.from(buf.subarray(keepFrom));
    this.remember(chunk);
  }

  end(emit: Emit): void {
    if (this.held.length > 0) emit(this.held);
    this.held = Buffer.alloc(0);
    if (!this.tail.includes("%%EOF")) throw corrupt("pdf: no %%EOF at the end");
  }

  /** Keeps the last 1 KiB of input, to find `%%EOF`. */
  private remember(chunk: Buffer): void {
    const joined =
      chunk.length >= 1024 ? chunk.subarray(chunk.length - 1024) : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - 1024)));
  }

  private step(buf: Buffer, i: number): void {
    const b = buf[i] as number;
    switch (this.state) {
      case "normal":
        if (this.xmpStarts.some((m) => m.step(b))) {
          buf.fill(space, i - 9, i + 1);
          this.removals.add("xmp");
          for (const m of this.xmpEnds) m.reset();
          this.state = "xmp";
        } else if (b === 0x2f) {
          this.name = "";
          this.state = "name";
        }
        return;
      case "name":
        if (!isDelimiter(b)) {
          if (this.name.length <= maxName) this.name += String.fromCharCode(b);
          return;
        }
        this.state = infoKeys.has(decodeName(this.name)) ? "value" : "normal";
        this.step(buf, i);
        return;
      case "value":
        if (isWhite(b)) return;
        if (b === 0x28) {
          this.depth = 1;
          this.escaped = false;
          this.state = "literal";
          this.removals.add("info");
        } else if (b === 0x3c) {
          this.state = "hexOrDict";
        } else {
          this.state = "normal";
          this.step(buf, i);
        }
        return;
      case "hexOrDict":
        if (b === 0x3c) {
          this.state = "normal"; // `<<`: a dictionary, not a string
        } else {
          this.removals.add("info");
          this.state = "hex";
          this.step(buf, i);
        }
        return;
      case "hex":
        if (b === 0x3e) this.state = "normal";
        else buf[i] = space;
        return;
      case "literal":
        if (this.escaped) {
          this.escaped = false;
        } else if (b === 0x5c) {
          this.escaped = true;
        } else if (b === 0x28) {
          this.depth++;
        } else if (b === 0x29 && --this.depth === 0) {
          this.state = "normal";
          return;
        }
        buf[i] = space;
        return;
      case "xmp":
        buf[i] = space;
        if (this.xmpEnds.some((m) => m.step(b))) {
          for (const m of this.xmpStarts) m.reset();
          this.state = "normal";
        }
        return;
    }
  }
}

/** `#xx` escapes in a PDF name (`/Auth#6Fr` is `/Author`). */
function decodeName(name: string): string {
  return name.replace(/#([0-9A-Fa-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}
