/**
 * WebP: keeps the image chunks (VP8, VP8L, VP8X, ALPH, ANIM, ANMF, ICCP) and neutralises EXIF, XMP and
 * unknown chunks by rewriting each as a `JUNK` chunk of the same size filled with zeros; the VP8X flags
 * no longer announce EXIF or XMP. Why not remove them: the RIFF size at byte 4 precedes the chunks, and
 * the metadata chunks come after the image data, so removing them in one streaming pass is impossible
 * without buffering the whole file. Decoders ignore unknown chunks (WebP container specification).
 * Anything after the RIFF payload is dropped.
 */
import { Carry, corrupt, type Emit, Removals, type Stripper } from "./stripper.ts";

const kept = new Set(["VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP"]);
const images = new Set(["VP8 ", "VP8L", "ANMF"]);
const vp8xExifAndXmp = 0x08 | 0x04;
const zeros = Buffer.alloc(64 * 1024);

type State = "header" | "chunk" | "vp8x" | "data" | "done";

export class WebpStripper implements Stripper {
  private state: State = "header";
  private readonly carry = new Carry();
  private readonly removals = new Removals();
  private end_ = 0;
  private offset = 0;
  private remaining = 0;
  private keep = false;
  private chunks = 0;
  private sawImage = false;

  get removed() {
    return this.removals.counts;
  }

  write(chunk: Buffer, emit: Emit): void {
    const data = this.carry.join(chunk);
    let pos = 0;
    parse: while (pos < data.length) {
      switch (this.state) {
        case "header": {
          if (data.length - pos < 12) break parse;
          if (
            data.toString("latin1", pos, pos + 4) !== "RIFF" ||
            data.toString("latin1", pos + 8, pos + 12) !== "WEBP"
          ) {
            throw corrupt("webp: bad RIFF header");
          }
          const size = data.readUInt32LE(pos + 4);
          if (size < 4 + 8) throw corrupt("webp: RIFF too small");
          this.end_ = 8 + size;
          this.offset = 12;
          emit(data.subarray(pos, pos + 12));
          pos += 12;
          this.state = "chunk";
          break;
        }
        case "chunk": {
          if (data.length - pos < 8) break parse;
          const fourcc = data.toString("latin1", pos, pos + 4);
          const size = data.readUInt32LE(pos + 4);
          const padded = size + (size & 1);
          if (this.offset + 8 + padded > this.end_) throw corrupt("webp: chunk past RIFF end");
          if (this.chunks === 0 && !["VP8 ", "VP8L", "VP8X"].includes(fourcc)) {
            throw corrupt("webp: no image header");
          }
          this.chunks++;
          if (images.has(fourcc)) this.sawImage = true;
          this.keep = kept.has(fourcc);
          this.offset += 8 + padded;
          this.remaining = padded;
          if (fourcc === "VP8X") {
            if (size !== 10) throw corrupt("webp: bad VP8X");
            this.state = "vp8x";
            break; // the header is emitted with the payload
          }
          if (this.keep) {
            emit(data.subarray(pos, pos + 8));
          } else {
            this.removals.add(fourcc.trim() || "unnamed");
            const junk = Buffer.alloc(8);
            junk.write("JUNK", 0, "latin1");
            junk.writeUInt32LE(size, 4);
            emit(junk);
          }
          pos += 8;
          this.state = padded > 0 ? "data" : this.next();
          break;
        }
        case "vp8x": {
          if (data.length - pos < 8 + 10) break parse;
          const header = Buffer.from(data.subarray(pos, pos + 18));
          header[8] = (header[8] as number) & ~vp8xExifAndXmp;
          emit(header);
          pos += 18;
          this.state = this.next();
          break;
        }
        case "data": {
          const n = Math.min(this.remaining, data.length - pos);
          if (this.keep) emit(data.subarray(pos, pos + n));
          else
            for (let left = n; left > 0; left -= zeros.length)
              emit(zeros.subarray(0, Math.min(left, zeros.length)));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.next();
          break;
        }
        case "done":
          pos = data.length;
          break;
      }
    }
    this.carry.keep(data, pos);
  }

  private next(): State {
    return this.offset >= this.end_ ? "done" : "chunk";
  }

  end(): void {
    if (this.state !== "done") throw corrupt("webp: truncated");
    if (!this.sawImage) throw corrupt("webp: no image data");
  }
}
