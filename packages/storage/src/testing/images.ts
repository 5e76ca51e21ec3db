/**
 * Test images built from scratch at run time, each with metadata in the places real cameras and tools
 * put it, and with the exact bytes the sanitizer must produce built independently (the same parts,
 * minus the metadata) — so a test compares against an expectation that does not come from the code
 * under test. Never import from production code.
 */
import { crc32, deflateSync } from "node:zlib";

/** An image with metadata, and what it must look like after stripping. */
export interface ImageFixture {
  readonly original: Buffer;
  readonly stripped: Buffer;
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function segment(marker: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xff, marker]), u16(payload.length + 2), payload]);
}

/** A big-endian TIFF/EXIF block: IFD0 with an ImageDescription and a GPS IFD (latitude, longitude). */
function exif(description: string, gps: { lat: [number, number, number]; lon: [number, number, number] }) {
  const desc = Buffer.from(`${description}\0`, "latin1");
  // Layout: header(8) | IFD0: count(2) + 2 entries(24) + next(4) | GPS IFD: count(2) + 4 entries(48) + next(4)
  //         | lat rationals(24) | lon rationals(24) | description
  const ifd0 = 8;
  const gpsIfd = ifd0 + 2 + 24 + 4;
  const latAt = gpsIfd + 2 + 48 + 4;
  const lonAt = latAt + 24;
  const descAt = lonAt + 24;
  const entry = (tag: number, type: number, count: number, value: Buffer) =>
    Buffer.concat([u16(tag), u16(type), u32(count), Buffer.concat([value, Buffer.alloc(4)]).subarray(0, 4)]);
  const rationals = (v: [number, number, number]) => Buffer.concat(v.flatMap((x) => [u32(x), u32(1)]));
  const tiff = Buffer.concat([
    Buffer.from("MM\0*", "latin1"),
    u32(ifd0),
    u16(2),
    entry(0x010e, 2, desc.length, u32(descAt)), // ImageDescription
    entry(0x8825, 4, 1, u32(gpsIfd)), // GPSInfo
    u32(0),
    u16(4),
    entry(0x0001, 2, 2, Buffer.from("N\0", "latin1")), // GPSLatitudeRef
    entry(0x0002, 5, 3, u32(latAt)), // GPSLatitude
    entry(0x0003, 2, 2, Buffer.from("E\0", "latin1")), // GPSLongitudeRef
    entry(0x0004, 5, 3, u32(lonAt)), // GPSLongitude
    u32(0),
    rationals(gps.lat),
    rationals(gps.lon),
    desc,
  ]);
  return Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
}

export interface JpegFixtureOptions {
  /** Default 16×16. */
  readonly width?: number;
  readonly height?: number;
  /** Put in the JFIF thumbnail as pixel bytes: kept by the sanitizer (pad to a multiple of 3). */
  readonly keptBytes?: Buffer;
  /** Put in the EXIF ImageDescription next to the GPS block: removed by the sanitizer. */
  readonly exifText?: string;
  /** Put in a COM segment: removed. */
  readonly comment?: string;
  /** Bytes appended after EOI (e.g. a motion-photo trailer): removed. */
  readonly trailer?: Buffer;
}

/**
 * A decodable mid-grey baseline JPEG (one component, one-code Huffman tables: every 8×8 block is
 * "DC difference 0, end of block") with an EXIF block holding GPS coordinates.
 */
export function jpegFixture(options: JpegFixtureOptions = {}): ImageFixture {
  const width = options.width ?? 16;
  const height = options.height ?? 16;
  const kept = options.keptBytes ?? Buffer.from("keep");
  const thumb = Buffer.concat([kept, Buffer.alloc((3 - (kept.length % 3)) % 3)]);
  const app0 = segment(
    0xe0,
    Buffer.concat([
      Buffer.from("JFIF\0", "latin1"),
      Buffer.from([1, 2, 0, 0, 1, 0, 1, thumb.length / 3, 1]),
      thumb,
    ]),
  );
  const app1 = segment(0xe1, exif(options.exifText ?? "holiday", { lat: [46, 57, 1], lon: [7, 26, 59] }));
  const com = options.comment ? segment(0xfe, Buffer.from(options.comment, "latin1")) : Buffer.alloc(0);
  const dqt = segment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)]));
  const sof = segment(
    0xc0,
    Buffer.concat([Buffer.from([8]), u16(height), u16(width), Buffer.from([1, 1, 0x11, 0])]),
  );
  const oneCode = (tableClass: number) =>
    segment(
      0xc4,
      Buffer.concat([
        Buffer.from([tableClass << 4]),
        Buffer.from([1, ...Array(15).fill(0)]),
        Buffer.from([0]),
      ]),
    );
  const sos = segment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0]));
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2; // "0" (DC: category 0) + "0" (AC: end of block) per block
  const scan = Buffer.alloc(Math.ceil(bits / 8));
  if (bits % 8) scan[scan.length - 1] = (1 << (8 - (bits % 8))) - 1; // pad with 1 bits
  const image = (...meta: Buffer[]) =>
    Buffer.concat([
      Buffer.from([0xff, 0xd8]),
      app0,
      ...meta,
      dqt,
      sof,
      oneCode(0),
      oneCode(1),
      sos,
      scan,
      Buffer.from([0xff, 0xd9]),
    ]);
  return {
    original: Buffer.concat([image(app1, com), options.trailer ?? Buffer.alloc(0)]),
    stripped: image(),
  };
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeBytes = Buffer.from(type, "latin1");
  return Buffer.concat([u32(data.length), typeBytes, data, u32(crc32(data, crc32(typeBytes)))]);
}

export interface PngFixtureOptions {
  readonly width?: number;
  readonly height?: number;
  /** Put in the pixel data (stored, uncompressed deflate): kept. */
  readonly keptBytes?: Buffer;
  /** Put in a tEXt and an iTXt chunk: removed. */
  readonly text?: string;
}

/** A decodable 8-bit greyscale PNG with text chunks, an eXIf chunk and a tIME chunk. */
export function pngFixture(options: PngFixtureOptions = {}): ImageFixture {
  const width = options.width ?? 16;
  const height = options.height ?? 16;
  const pixels = Buffer.alloc(height * (width + 1), 0x80);
  for (let y = 0; y < height; y++) pixels[y * (width + 1)] = 0; // filter: none
  const kept = options.keptBytes ?? Buffer.alloc(0);
  kept.copy(pixels, 1, 0, Math.min(kept.length, width));
  const ihdr = pngChunk("IHDR", Buffer.concat([u32(width), u32(height), Buffer.from([8, 0, 0, 0, 0])]));
  const idat = pngChunk("IDAT", deflateSync(pixels, { level: 0 }));
  const text = options.text ?? "Camera owner";
  const meta = [
    pngChunk("tEXt", Buffer.from(`Comment\0${text}`, "latin1")),
    pngChunk("iTXt", Buffer.from(`Description\0\0\0\0\0${text}`, "utf8")),
    pngChunk("eXIf", exif(text, { lat: [1, 2, 3], lon: [4, 5, 6] }).subarray(6)),
    pngChunk("tIME", Buffer.from([0x07, 0xea, 11, 23, 9, 30, 0])),
  ];
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const phys = pngChunk("pHYs", Buffer.concat([u32(2835), u32(2835), Buffer.from([1])]));
  const iend = pngChunk("IEND", Buffer.alloc(0));
  return {
    original: Buffer.concat([
      sig,
      ihdr,
      meta[0] as Buffer,
      phys,
      meta[1] as Buffer,
      idat,
      meta[2] as Buffer,
      meta[3] as Buffer,
      iend,
    ]),
    stripped: Buffer.concat([sig, ihdr, phys, idat, iend]),
  };
}

export interface WebpFixtureOptions {
  /** Put in the (not decodable) VP8L payload: kept. */
  readonly keptBytes?: Buffer;
  /** Put in the EXIF and XMP chunks: neutralised. */
  readonly text?: string;
}

function riffChunk(fourcc: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(fourcc, 0, "latin1");
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, Buffer.alloc(data.length & 1)]);
}

/** A WebP container (extended format) with EXIF and XMP chunks. The image payload is not decodable. */
export function webpFixture(options: WebpFixtureOptions = {}): ImageFixture {
  const text = options.text ?? "Camera owner";
  const vp8x = (flags: number) => riffChunk("VP8X", Buffer.from([flags, 0, 0, 0, 15, 0, 0, 15, 0, 0]));
  const image = riffChunk(
    "VP8L",
    Buffer.concat([Buffer.from([0x2f]), options.keptBytes ?? Buffer.from("pixels")]),
  );
  const exifData = exif(text, { lat: [1, 2, 3], lon: [4, 5, 6] }).subarray(6);
  const xmpData = Buffer.from(`<x:xmpmeta xmlns:x="adobe:ns:meta/">${text}</x:xmpmeta>`);
  const riff = (chunks: Buffer[]) => {
    const body = Buffer.concat([Buffer.from("WEBP", "latin1"), ...chunks]);
    const header = Buffer.alloc(8);
    header.write("RIFF", 0, "latin1");
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body]);
  };
  const junk = (data: Buffer) => riffChunk("JUNK", Buffer.alloc(data.length));
  return {
    original: riff([
      vp8x(0x08 | 0x04 | 0x10),
      image,
      riffChunk("EXIF", exifData),
      riffChunk("XMP ", xmpData),
    ]),
    stripped: riff([vp8x(0x10), image, junk(exifData), junk(xmpData)]),
  };
}

export interface PdfFixtureOptions {
  /** Shown on the page (content stream): kept. */
  readonly keptText?: string;
  /** In the document information and the XMP packet: blanked. */
  readonly text?: string;
}

/** A one-page PDF with a document information dictionary and an XMP metadata stream. */
export function pdfFixture(options: PdfFixtureOptions = {}): ImageFixture {
  const text = options.text ?? "Dr. Example";
  const kept = options.keptText ?? "Hello";
  const build = (blank: boolean) => {
    const b = (s: string) => (blank ? " ".repeat(s.length) : s);
    const hex = Buffer.from(text).toString("hex");
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><dc:creator>${text}</dc:creator></rdf:RDF></x:xmpmeta>`;
    const content = `BT /F1 12 Tf 20 20 Td (${kept}) Tj ET`;
    const packet = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>${b(xmp)}<?xpacket end="w"?>`;
    const objects = [
      "<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
      `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
      `<< /Type /Metadata /Subtype /XML /Length ${packet.length} >>\nstream\n${packet}\nendstream`,
      `<< /Title (${b(`Results of ${text}`)}) /Author (${b(`${text} \\(MD\\)`)}) /Producer <${b(hex)}> /Creator (${b("Scanner (v2)")}) /CreationDate (${b("D:20261123093000Z")}) /Trapped /False >>`,
    ];
    let out = "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";
    const offsets: number[] = [];
    objects.forEach((o, i) => {
      offsets.push(Buffer.byteLength(out, "latin1"));
      out += `${i + 1} 0 obj\n${o}\nendobj\n`;
    });
    const xref = Buffer.byteLength(out, "latin1");
    out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
    for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
    out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
    return Buffer.from(out, "latin1");
  };
  return { original: build(false), stripped: build(true) };
}
