/**
 * PNG: keeps the chunks that draw the image (critical chunks, transparency, colour and gamma, physical
 * size, APNG animation) and drops every other ancillary chunk — tEXt, zTXt, iTXt, eXIf, tIME, sPLT and
 * private ones — plus anything after IEND. Every chunk's CRC is checked; an unknown critical chunk
 * makes the file `corrupt` (a decoder could not draw it either).
 */
import { crc32 } from "node:zlib";
import { Carry, corrupt, type Emit, Removals, type Stripper } from "./stripper.ts";

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const kept = new Set([
  "IHDR",
  "PLTE",
  "IDAT",
  "IEND",
  "tRNS",
  "cHRM",
  "gAMA",
  "iCCP",
  "sBIT",
  "sRGB",
  "cICP",
  "mDCv",
  "cLLi",
  "bKGD",
  "hIST",
  "pHYs",
  "acTL",
  "fcTL",
  "fdAT",
]);

type State = "signature" | "header" | "data" | "crc" | "done";

export class PngStripper implements Stripper {
  private state: State = "signature";
  private readonly carry = new Carry();
  private readonly removals = new Removals();
  private type = "";
  private remaining = 0;
  private keep = false;
  private crc = 0;
  private chunks = 0;
  private sawData = false;

  get removed() {
    return this.removals.counts;
  }

  write(chunk: Buffer, emit: Emit): void {
    const data = this.carry.join(chunk);
    let pos = 0;
    parse: while (pos < data.length) {
      switch (this.state) {
        case "signature":
          if (data.length - pos < 8) break parse;
          if (!data.subarray(pos, pos + 8).equals(signature)) throw corrupt("png: bad signature");
          emit(data.subarray(pos, pos + 8));
          pos += 8;
          this.state = "header";
          break;
        case "header": {
          if (data.length - pos < 8) break parse;
          const length = data.readUInt32BE(pos);
          const typeBytes = data.subarray(pos + 4, pos + 8);
          const type = typeBytes.toString("latin1");
          if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) throw corrupt("png: bad chunk header");
          if (this.chunks === 0 && (type !== "IHDR" || length !== 13))
            throw corrupt("png: IHDR must be first");
          if (type === "IEND" && (length !== 0 || !this.sawData)) throw corrupt("png: bad IEND");
          if (type === "IDAT") this.sawData = true;
          this.chunks++;
          this.type = type;
          this.keep = kept.has(type);
          if (!this.keep) {
            // Bit 5 of the first letter: lower case = ancillary (safe to drop), upper case = critical.
            if (type.charCodeAt(0) < 0x61) throw corrupt("png: unknown critical chunk");
            this.removals.add(type);
          } else {
            emit(data.subarray(pos, pos + 8));
          }
          this.crc = crc32(typeBytes);
          this.remaining = length;
          this.state = length > 0 ? "data" : "crc";
          pos += 8;
          break;
        }
        case "data": {
          const n = Math.min(this.remaining, data.length - pos);
          const part = data.subarray(pos, pos + n);
          this.crc = crc32(part, this.crc);
          if (this.keep) emit(part);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = "crc";
          break;
        }
        case "crc":
          if (data.length - pos < 4) break parse;
          if (data.readUInt32BE(pos) !== this.crc >>> 0) throw corrupt("png: bad CRC");
          if (this.keep) emit(data.subarray(pos, pos + 4));
          pos += 4;
          this.state = this.type === "IEND" ? "done" : "header";
          break;
        case "done":
          pos = data.length;
          break;
      }
    }
    this.carry.keep(data, pos);
  }

  end(): void {
    if (this.state !== "done") throw corrupt("png: truncated");
  }
}
