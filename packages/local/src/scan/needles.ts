/**
 * The byte patterns under which a canary could sit in a store in clear: as UTF-8, UTF-16, percent- or
 * form-encoded, hex, or base64 at any of the three alignments. A hit on any of them is plaintext at rest.
 */
export function canaryNeedles(canary: string): Buffer[] {
  const utf8 = Buffer.from(canary, "utf8");
  const out = new Set<string>();
  const add = (b: Buffer) => out.add(b.toString("latin1"));
  add(utf8);
  add(Buffer.from(canary, "utf16le"));
  add(Buffer.from(encodeURIComponent(canary), "latin1"));
  add(Buffer.from(new URLSearchParams({ x: canary }).toString().slice(2), "latin1"));
  add(Buffer.from(utf8.toString("hex"), "latin1"));
  for (let shift = 0; shift < 3; shift += 1) {
    // base64 of the canary preceded by `shift` unknown bytes: drop the characters those bytes touch.
    const b64 = Buffer.concat([Buffer.alloc(shift), utf8]).toString("base64");
    const start = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    const usable = b64.slice(start, b64.length - 4);
    if (usable.length >= 8) {
      add(Buffer.from(usable, "latin1"));
      add(Buffer.from(usable.replace(/\+/g, "-").replace(/\//g, "_"), "latin1"));
    }
  }
  return [...out].map((s) => Buffer.from(s, "latin1"));
}

/** True when `haystack` contains any of the needles. */
export function containsAny(haystack: Buffer, needles: readonly Buffer[]): boolean {
  return needles.some((n) => haystack.includes(n));
}
