/**
 * JPEG: keeps the image (frames, tables, scans) and drops metadata segments — APP1 (EXIF incl. GPS,
 * XMP), APP3…APP13 (e.g. IPTC/Photoshop), APP15, COM, APP2 other than the ICC profile (e.g. MPF), APP0
 * other than JFIF — and everything after EOI (appended thumbnails, motion-photo videos, trailers).
 * Kept: APP0 JFIF, APP2 ICC_PROFILE (colour), APP14 Adobe (colour transform). EXIF orientation goes too:
 * a rotated photo shows as stored.
 */
import { Carry, corrupt, type Emit, Removals, type Stripper } from "./stripper.ts";

type State = "soi" | "marker" | "segment" | "entropy" | "done";

const keptApps: ReadonlyArray<[marker: number, identifier: string]> = [
  [0xe0, "JFIF\0"],
  [0xe2, "ICC_PROFILE\0"],
  [0xee, "Adobe"],
];
const identifierBytes = 12;

const isApp = (m: number) => m >= 0xe0 && m <= 0xef;
const isFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
const isRestart = (m: number) => m >= 0xd0 && m <= 0xd7;

function keepSegment(marker: number, identifier: Buffer): boolean {
  if (marker === 0xfe) return false;
  if (!isApp(marker)) return true;
  return keptApps.some(([m, id]) => m === marker && identifier.toString("latin1").startsWith(id));
}

const segmentName = (m: number) => (m === 0xfe ? "COM" : `APP${m - 0xe0}`);

export class JpegStripper implements Stripper {
  private state: State = "soi";
  private readonly carry = new Carry();
  private readonly removals = new Removals();
  private remaining = 0;
  private keep = false;
  private afterSegment: State = "marker";
  private sawFrame = false;
  private sawScan = false;

  get removed() {
    return this.removals.counts;
  }

  write(chunk: Buffer, emit: Emit): void {
    const data = this.carry.join(chunk);
    let pos = 0;
    parse: while (pos < data.length) {
      switch (this.state) {
        case "soi":
          if (data.length - pos < 2) break parse;
          if (data[pos] !== 0xff || data[pos + 1] !== 0xd8) throw corrupt("jpeg: no SOI");
          emit(data.subarray(pos, pos + 2));
          pos += 2;
          this.state = "marker";
          break;
        case "marker": {
          if (data[pos] !== 0xff) throw corrupt("jpeg: marker expected");
          let p = pos;
          while (p < data.length && data[p] === 0xff) p++; // fill bytes
          if (p >= data.length) {
            pos = data.length - 1;
            break parse;
          }
          const m = data[p] as number;
          if (m === 0x00 || m === 0xd8) throw corrupt("jpeg: bad marker");
          if (m === 0xd9) {
            if (!this.sawScan) throw corrupt("jpeg: no scan");
            emit(Buffer.from([0xff, 0xd9]));
            this.state = "done";
            pos = p + 1;
            break;
          }
          if (isRestart(m) || m === 0x01) {
            emit(Buffer.from([0xff, m]));
            pos = p + 1;
            break;
          }
          // Wait for the length and, of an APP or COM segment, its identifier (kept from the last 0xFF).
          if (data.length - p < 3) {
            pos = p - 1;
            break parse;
          }
          const length = data.readUInt16BE(p + 1);
          if (length < 2) throw corrupt("jpeg: bad segment length");
          const idLength = isApp(m) || m === 0xfe ? Math.min(length - 2, identifierBytes) : 0;
          if (data.length - (p + 3) < idLength) {
            pos = p - 1;
            break parse;
          }
          const identifier = data.subarray(p + 3, p + 3 + idLength);
          if (isFrame(m)) this.sawFrame = true;
          if (m === 0xda) {
            if (!this.sawFrame) throw corrupt("jpeg: scan before frame");
            this.sawScan = true;
          }
          this.keep = keepSegment(m, identifier);
          if (this.keep) emit(data.subarray(p - 1, p + 3));
          else this.removals.add(segmentName(m));
          this.remaining = length - 2;
          this.afterSegment = m === 0xda ? "entropy" : "marker";
          this.state = this.remaining > 0 ? "segment" : this.afterSegment;
          pos = p + 3;
          break;
        }
        case "segment": {
          const n = Math.min(this.remaining, data.length - pos);
          if (this.keep) emit(data.subarray(pos, pos + n));
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.afterSegment;
          break;
        }
        case "entropy": {
          // Scan data passes in long runs: only a fill byte or a marker ends a run.
          let scan = pos;
          for (;;) {
            const ff = data.indexOf(0xff, scan);
            if (ff < 0 || ff + 1 >= data.length) {
              const end = ff < 0 ? data.length : ff;
              if (end > pos) emit(data.subarray(pos, end));
              pos = end;
              if (ff < 0) break;
              break parse; // the byte after 0xFF is in the next chunk
            }
            const next = data[ff + 1] as number;
            if (next === 0x00 || isRestart(next)) {
              scan = ff + 2; // stuffed 0xFF or a restart marker: part of the scan
              continue;
            }
            if (ff > pos) emit(data.subarray(pos, ff));
            if (next === 0xff) {
              pos = ff + 1; // a fill byte before a marker: dropped
              scan = pos;
              continue;
            }
            pos = ff;
            this.state = "marker";
            break;
          }
          break;
        }
        case "done":
          pos = data.length;
          break;
      }
    }
    this.carry.keep(data, pos);
  }

  end(): void {
    if (this.state !== "done") throw corrupt("jpeg: truncated");
  }
}
