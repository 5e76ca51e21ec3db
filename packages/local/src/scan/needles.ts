/**
 * The text forms under which a canary could travel or sit in clear: plain, percent- and form-encoded,
 * JSON-escaped (as `JSON.stringify` writes it, and with every non-ASCII character and `/` escaped),
 * and base64 and base64url at any of the three alignments (the characters that unknown neighbouring
 * bytes would change are left out).
 *
 * @example
 * canaryForms("Canary Fullname 1f2e").includes("Canary%20Fullname%201f2e"); // true
 */
export function canaryForms(canary: string): string[] {
  const out = new Set<string>([canary]);
  out.add(encodeURIComponent(canary));
  out.add(new URLSearchParams({ x: canary }).toString().slice(2));
  const json = JSON.stringify(canary).slice(1, -1);
  out.add(json);
  out.add(
    json
      .replace(/\//g, "\\/")
      .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  );
  const utf8 = Buffer.from(canary, "utf8");
  for (let shift = 0; shift < 3; shift += 1) {
    // base64 of the canary preceded by `shift` unknown bytes: drop the characters those bytes touch.
    const b64 = Buffer.concat([Buffer.alloc(shift), utf8]).toString("base64");
    const start = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    const usable = b64.slice(start, b64.length - 4);
    if (usable.length >= 8) {
      out.add(usable);
      out.add(usable.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...out];
}

/**
 * The byte patterns under which a canary could sit in a store or on a wire in clear: every text form of
 * `canaryForms` as UTF-8, plus UTF-16 and hex. A hit on any of them is plaintext.
 */
export function canaryNeedles(canary: string): Buffer[] {
  const out = new Set<string>(canaryForms(canary).map((f) => Buffer.from(f, "utf8").toString("latin1")));
  out.add(Buffer.from(canary, "utf16le").toString("latin1"));
  out.add(Buffer.from(canary, "utf8").toString("hex"));
  return [...out].map((s) => Buffer.from(s, "latin1"));
}

/** True when `haystack` contains any of the needles. */
export function containsAny(haystack: Buffer, needles: readonly Buffer[]): boolean {
  return needles.some((n) => haystack.includes(n));
}
